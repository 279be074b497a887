import Crypto

/// A byte form of components that depends only on their meaning: not on property or parameter
/// order, folding, name case, enumerated-value case, redundant `VALUE=`, how a list property is
/// split across lines, or equivalent spellings of a value (`P1W` = `P7D`, `INTERVAL=1` = no
/// INTERVAL, `+0100` = `+010000`). What a skip list names is left out.
///
/// An item's form is one line per VTIMEZONE it uses (`VTIMEZONE:<tzid>:<sha-256 of the zone's
/// form>`), then its components' blocks, sorted. The SHA-256 of this form decides whether an item
/// changed; it is stable across processes and machines (never Swift's `Hasher`).
public enum CanonicalForm {
    /// The canonical bytes of an item.
    public static func bytes(of item: ICalItem, skipping skip: SkipList = .none) -> [UInt8] {
        var hasher = ItemHasher(skipping: skip)
        return hasher.canonicalBytes(of: item)
    }

    /// The canonical bytes of one component and its sub-components.
    public static func bytes(of component: ICalComponent, skipping skip: SkipList = .none) -> [UInt8] {
        let writer = CanonicalWriter(skip: skip)
        var out = [UInt8]()
        writer.component(component, depth: 0, into: &out)
        return out
    }

    /// The lowercase hex SHA-256 of `bytes(of:skipping:)`. To hash many items, use one
    /// `ItemHasher`: it reuses its buffers and hashes each time zone once.
    public static func hash(of item: ICalItem, skipping skip: SkipList = .none) -> String {
        var hasher = ItemHasher(skipping: skip)
        return hasher.hash(item)
    }

    /// The lowercase hex SHA-256 of one component's canonical bytes.
    public static func hash(of component: ICalComponent, skipping skip: SkipList = .none) -> String {
        sha256Hex(bytes(of: component, skipping: skip))
    }

    /// The lowercase hex SHA-256 of any bytes (a feed's body, for feeds without validators).
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        hex(SHA256.hash(data: bytes))
    }

    /// One property's canonical line (name, parameters with `skip` applied, values): two
    /// properties have the same key exactly when they mean the same.
    public static func key(of p: ICalProperty, skipping skip: SkipList = .none) -> [UInt8] {
        var out = [UInt8]()
        CanonicalWriter.appendLine(name: p.name, parameters: p.parameters, values: p.values, skip: skip, into: &out)
        return out
    }

    /// The canonical text of a property's values (`date-time=20260105T090000Z`). Not generic, so
    /// callers in other modules get the specialized code.
    public static func key(of values: ICalValues) -> [UInt8] {
        var out = [UInt8]()
        CanonicalWriter.appendValues(values, into: &out)
        return out
    }

    /// The canonical text of one value.
    public static func key(of value: ICalValue) -> [UInt8] {
        var out = [UInt8]()
        appendCanonical(value, to: &out)
        return out
    }

    /// The canonical text of a parameter (name and values, enumerations uppercased, address
    /// schemes lowercased).
    public static func key(of parameter: ICalParameter) -> [UInt8] {
        var out = [UInt8]()
        CanonicalWriter.appendParameters([parameter], skip: .none, into: &out)
        return out
    }

    /// Lowercase hex of at most 32 bytes (a SHA-256 digest, a random token).
    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: 64) { out in
            var i = 0
            for b in digest {
                out[i] = digits.utf8Start[Int(b >> 4)]
                out[i + 1] = digits.utf8Start[Int(b & 0x0F)]
                i += 2
            }
            return i
        }
    }

    /// The canonical text of one value, prefixed by its type (`date-time=20260105T090000Z`).
    public static func appendCanonical(_ v: ICalValue, to out: inout [UInt8]) {
        out.append(literal: typePrefix(v.type))
        switch v {
        case .duration(let d):
            out.append(contentsOf: canonicalDuration(d).utf8)
        case .period(let p):
            ValueFormatter.appendDateTime(p.start, to: &out)
            out.append(ASCII.slash)
            switch p.end {
            case .dateTime(let e): ValueFormatter.appendDateTime(e, to: &out)
            case .duration(let d): out.append(contentsOf: canonicalDuration(d).utf8)
            }
        case .recur(let r):
            out.append(contentsOf: ValueFormatter.recurString(canonicalRecur(r)).utf8)
        case .utcOffset(let o):
            out.append(contentsOf: String(o.seconds).utf8)
        case .calAddress(let s):
            appendAddress(s, to: &out)
        default:
            ValueFormatter.append(v, to: &out)
        }
    }

    /// `type=` of a value's canonical text: the type's xCal name (`ValueType.rawValue`), as a
    /// literal so that it is copied rather than built for every value.
    static func typePrefix(_ t: ValueType) -> StaticString {
        switch t {
        case .binary: "binary="
        case .boolean: "boolean="
        case .calAddress: "cal-address="
        case .date: "date="
        case .dateTime: "date-time="
        case .duration: "duration="
        case .float: "float="
        case .integer: "integer="
        case .period: "period="
        case .recur: "recur="
        case .text: "text="
        case .time: "time="
        case .uri: "uri="
        case .utcOffset: "utc-offset="
        case .geo: "geo="
        case .requestStatus: "request-status="
        case .unknown: "unknown="
        }
    }

    /// A URI scheme is case-insensitive (RFC 3986 §3.1): `MAILTO:a@x` = `mailto:a@x`.
    static func appendAddress(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { b in
            var i = 0
            while i < b.count {
                let c = b[i]
                i += 1
                out.append(c &- 0x41 < 26 ? c + 0x20 : c)
                if c == ASCII.colon { break }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[i...]))
        }
    }

    /// Days (weeks folded in) and exact seconds: `P1W` and `P7D` are one duration, `P1D` and
    /// `PT24H` are not (RFC 5545 §3.3.6: days are nominal, hours exact).
    static func canonicalDuration(_ d: ICalDuration) -> String {
        let days = d.nominalDays
        let secs = d.exactSeconds
        if days == 0 && secs == 0 { return "PT0S" }
        return (d.isNegative ? "-P" : "P") + "\(days)DT\(secs)S"
    }

    /// Defaults removed and lists sorted: `INTERVAL=1` and `WKST=MO` are what a rule means
    /// without them, and BYxxx lists are sets.
    static func canonicalRecur(_ r: ICalRecur) -> ICalRecur {
        var c = r
        if c.interval == 1 { c.interval = nil }
        if c.wkst == "MO" { c.wkst = nil }
        c.bySecond.sort()
        c.byMinute.sort()
        c.byHour.sort()
        c.byMonthDay.sort()
        c.byYearDay.sort()
        c.byWeekNo.sort()
        c.byMonth.sort()
        c.bySetPos.sort()
        c.byDay.sort()
        c.extensions.sort { ($0.name, $0.value) < ($1.name, $1.value) }
        return c
    }
}

/// Hashes items with one skip list, reusing its buffers, and canonicalizing each distinct
/// VTIMEZONE once (a feed's thousands of items share a handful of zones).
public struct ItemHasher {
    public let skip: SkipList
    private let writer: CanonicalWriter
    // The zones met so far (a feed has a handful): where their storage is, and what it gave.
    private var zoneKeys: [ICalComponent.StorageKey?] = []
    private var zoneEntries: [(tree: ICalComponent, tzid: String, digest: [UInt8])] = []

    private var out: [UInt8] = []

    public init(skipping skip: SkipList = .defaults) {
        self.skip = skip.unshared()
        self.writer = CanonicalWriter(skip: self.skip)
        out.reserveCapacity(4096)
    }

    /// The lowercase hex SHA-256 of each item's canonical form, computed on every core (one
    /// hasher per thread).
    public static func hashes(of items: [ICalItem], skipping skip: SkipList = .defaults) -> [String] {
        items.concurrentMap(state: { ItemHasher(skipping: skip) }) { $0.hash($1) }
    }

    /// The lowercase hex SHA-256 of the item's canonical form.
    public mutating func hash(_ item: ICalItem) -> String {
        CanonicalForm.hex(digest(item))
    }

    /// The SHA-256 of the item's canonical form.
    public mutating func digest(_ item: ICalItem) -> SHA256.Digest {
        fill(item)
        return out.withUnsafeBytes { SHA256.hash(data: $0) }
    }

    /// The item's canonical bytes.
    public mutating func canonicalBytes(of item: ICalItem) -> [UInt8] {
        fill(item)
        return out
    }

    private mutating func fill(_ item: ICalItem) {
        out.removeAll(keepingCapacity: true)
        if !skip.skipsComponent("VTIMEZONE") {
            item.timezones.withUnsafeBufferPointer { zones in
                if zones.count == 1 {
                    appendZoneLine(zone(zones.baseAddress!))
                } else if zones.count > 1 {
                    for z in zones.indices.map({ zone(zones.baseAddress! + $0) }).sorted(by: { $0.tzid < $1.tzid }) {
                        appendZoneLine(z)
                    }
                }
            }
        }
        writer.components(item.components, depth: 0, into: &out)
    }

    /// `VTIMEZONE:<tzid>:<hex digest>` and a line end.
    private mutating func appendZoneLine(_ z: (tzid: String, digest: [UInt8])) {
        out.append(literal: "VTIMEZONE:")
        out.appendUTF8(z.tzid)
        out.append(ASCII.colon)
        out.append(contentsOf: z.digest)
        out.append(ASCII.lf)
    }

    /// A zone's TZID and the hex SHA-256 of its canonical form, computed once per distinct zone.
    /// Every item of a feed shares the same few zone trees, so a zone is recognized by where its
    /// storage is, read in place: copying the tree out would retain and release storage that
    /// other threads hashing other items of the feed touch too, and two cores doing that at once
    /// make its reference count bounce between their caches. What is returned was made by this
    /// hasher, so it is not shared either. The cache keeps each tree it has seen, so storage it
    /// knows is never reused by another tree.
    private mutating func zone(_ zone: UnsafePointer<ICalComponent>) -> (tzid: String, digest: [UInt8]) {
        let key = zone.pointee.storageKey
        if let key, let k = zoneKeys.firstIndex(of: key) { return (zoneEntries[k].tzid, zoneEntries[k].digest) }
        let tree = zone.pointee
        let tzid = String(decoding: Array((tree.property("TZID")?.text ?? "").utf8), as: UTF8.self)
        let digest: [UInt8]
        if let k = zoneEntries.firstIndex(where: { $0.tzid == tzid && $0.tree == tree }) {
            digest = zoneEntries[k].digest  // the same zone in other storage (another calendar)
        } else {
            var bytes = [UInt8]()
            writer.component(tree, depth: 0, into: &bytes)
            digest = Array(CanonicalForm.hex(SHA256.hash(data: bytes)).utf8)
        }
        zoneKeys.append(key)
        zoneEntries.append((tree, tzid, digest))
        return (tzid, digest)
    }
}

/// Writes canonical blocks. Lines of each nesting level go to a buffer of that level and are
/// sorted as byte ranges, so a component costs no allocation once the buffers have grown.
final class CanonicalWriter {
    let skip: SkipList

    /// The buffers of one nesting level. A class, so that writing into one level's buffer while
    /// a deeper level writes into its own is not an overlapping access.
    private final class Level {
        var lines: [UInt8] = []
        var lineRanges: [Range<Int>] = []
        var blocks: [UInt8] = []
        var blockRanges: [Range<Int>] = []
    }

    private var levels: [Level] = []

    init(skip: SkipList) {
        self.skip = skip
    }

    private func level(_ depth: Int) -> Level {
        while levels.count <= depth { levels.append(Level()) }
        return levels[depth]
    }

    /// Appends the sorted blocks of `components` (skip list applied) to `out`.
    func components(_ components: [ICalComponent], depth: Int, into out: inout [UInt8]) {
        let l = level(depth)
        var blocks = l.blocks
        var ranges = l.blockRanges
        l.blocks = []
        l.blockRanges = []
        defer {
            l.blocks = blocks
            l.blockRanges = ranges
        }
        blocks.removeAll(keepingCapacity: true)
        ranges.removeAll(keepingCapacity: true)
        for c in components where !skip.skipsComponent(c.name) {
            let start = blocks.count
            component(c, depth: depth + 1, into: &blocks)
            ranges.append(start..<blocks.count)
        }
        Self.sortAndAppend(buffer: blocks, ranges: &ranges, unique: false, separator: nil, into: &out)
    }

    /// Appends one component's block to `out`.
    func component(_ c: ICalComponent, depth: Int, into out: inout [UInt8]) {
        let l = level(depth)
        // Work on locals (moved out of the level and back), so appends are not checked at run
        // time for overlapping access to a class's stored property.
        var lines = l.lines
        var ranges = l.lineRanges
        l.lines = []
        l.lineRanges = []
        defer {
            l.lines = lines
            l.lineRanges = ranges
        }
        lines.removeAll(keepingCapacity: true)
        ranges.removeAll(keepingCapacity: true)
        var hasSet = false
        // Through the buffer, so that each property is read in place rather than copied out
        // (a copy retains and releases its strings and arrays).
        c.properties.withUnsafeBufferPointer { properties in
            for i in properties.indices where !skip.skipsProperty(properties[i].name) {
                if PropertyTypes.isSetValued(properties[i].name) {
                    hasSet = true
                    for v in properties[i].values { line(properties[i], CollectionOfOne(v), &lines, &ranges) }
                } else {
                    line(properties[i], properties[i].values, &lines, &ranges)
                }
            }
        }
        out.append(literal: "BEGIN:")
        out.appendUTF8(c.name)
        out.append(ASCII.lf)
        // A set: the same value listed twice, or on two lines, is one value.
        Self.sortAndAppend(buffer: lines, ranges: &ranges, unique: hasSet, separator: ASCII.lf, into: &out)
        if !c.components.isEmpty { components(c.components, depth: depth + 1, into: &out) }
        out.append(literal: "END:")
        out.appendUTF8(c.name)
        out.append(ASCII.lf)
    }

    private func line<C: Collection>(
        _ p: ICalProperty, _ values: C, _ lines: inout [UInt8], _ ranges: inout [Range<Int>]
    ) where C.Element == ICalValue {
        let start = lines.count
        Self.appendLine(name: p.name, parameters: p.parameters, values: values, skip: skip, into: &lines)
        ranges.append(start..<lines.count)
    }

    /// `NAME;PARAM="v":type=value,…` without a line end.
    static func appendLine<C: Collection>(
        name: String, parameters: [ICalParameter], values: C, skip: SkipList, into out: inout [UInt8]
    ) where C.Element == ICalValue {
        out.appendUTF8(name)
        if !parameters.isEmpty { appendParameters(parameters, skip: skip, into: &out) }
        out.append(ASCII.colon)
        appendValues(values, into: &out)
    }

    static func appendValues<C: Collection>(_ values: C, into out: inout [UInt8]) where C.Element == ICalValue {
        var first = true
        for v in values {
            if !first { out.append(ASCII.comma) }
            first = false
            CanonicalForm.appendCanonical(v, to: &out)
        }
    }

    static func appendParameters(_ params: [ICalParameter], skip: SkipList, into out: inout [UInt8]) {
        var inOrder = true
        for i in params.indices.dropFirst() where params[i - 1].name > params[i].name {
            inOrder = false
            break
        }
        let sorted = inOrder ? params : params.sorted { $0.name < $1.name }
        for p in sorted where !skip.skipsParameter(p.name) {
            out.append(ASCII.semicolon)
            out.appendUTF8(p.name)
            out.append(ASCII.equals)
            let info = PropertyTypes.parameterInfo(of: p.name)
            let address = info.type == .calAddress
            if p.values.count == 1 {
                appendParameterValue(p.values[0], address: address, enumerated: info.enumerated, into: &out)
            } else {
                // Several values are a set: sorted by their canonical spelling, so that
                // `"MAILTO:b@x","mailto:a@x"` and `"mailto:a@x","MAILTO:b@x"` are one value.
                let canonical = p.values.map { v -> [UInt8] in
                    var one: [UInt8] = []
                    appendParameterValue(v, address: address, enumerated: info.enumerated, into: &one)
                    return one
                }.sorted { $0.lexicographicallyPrecedes($1) }
                for (i, v) in canonical.enumerated() {
                    if i > 0 { out.append(ASCII.comma) }
                    out.append(contentsOf: v)
                }
            }
        }
    }

    /// One parameter value, quoted so that delimiters inside it cannot be confused with structure:
    /// a calendar address's scheme lower-cased, an enumerated value upper-cased.
    static func appendParameterValue(_ v: String, address: Bool, enumerated: Bool, into out: inout [UInt8]) {
        out.append(ASCII.quote)
        var v = v
        v.withUTF8 { b in
            var inScheme = address
            var run = 0
            for i in 0..<b.count {
                var c = b[i]
                if inScheme {
                    if c == ASCII.colon { inScheme = false } else if c &- 0x41 < 26 { c += 0x20 }
                } else if enumerated && c &- 0x61 < 26 {
                    c -= 0x20
                } else if c != ASCII.quote && c != ASCII.caret && c != ASCII.lf {
                    continue  // copied with its run
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: b[run..<i]))
                run = i + 1
                if c == ASCII.quote || c == ASCII.caret {
                    out.append(ASCII.caret)
                    out.append(c)
                } else if c == ASCII.lf {
                    out.append(ASCII.caret)
                    out.append(0x6E)
                } else {
                    out.append(c)
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[run...]))
        }
        out.append(ASCII.quote)
    }

    /// Appends the ranges of `buffer` in byte order (each followed by `separator`), dropping
    /// repeats when `unique`.
    private static func sortAndAppend(
        buffer: [UInt8], ranges: inout [Range<Int>], unique: Bool, separator: UInt8?, into out: inout [UInt8]
    ) {
        buffer.withUnsafeBufferPointer { b in
            if ranges.count > 1 { ranges.sort { x, y in less(b, x, y) } }
            var previous: Range<Int>?
            for r in ranges {
                if unique, let p = previous, !less(b, p, r), !less(b, r, p) { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: b[r]))
                if let separator { out.append(separator) }
                previous = r
            }
        }
    }

    @inline(__always)
    private static func less(_ b: UnsafeBufferPointer<UInt8>, _ x: Range<Int>, _ y: Range<Int>) -> Bool {
        let n = min(x.count, y.count)
        var i = 0
        while i < n {
            let p = b[x.lowerBound + i]
            let q = b[y.lowerBound + i]
            if p != q { return p < q }
            i += 1
        }
        return x.count < y.count
    }
}
