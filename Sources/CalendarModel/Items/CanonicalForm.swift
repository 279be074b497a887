import Crypto

/// A byte form of components that depends only on their meaning: not on property or parameter
/// order, folding, name case, enumerated-value case, redundant `VALUE=`, how a list property is
/// split across lines, or equivalent spellings of a value (`P1W` = `P7D`, `INTERVAL=1` = no
/// INTERVAL, `+0100` = `+010000`). What a skip list names is left out.
///
/// The SHA-256 of this form decides whether an item changed; it is stable across processes and
/// machines (never Swift's `Hasher`).
public enum CanonicalForm {
    /// The canonical bytes of an item: its time zones and its components.
    public static func bytes(of item: ICalItem, skipping skip: SkipList = .none) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(1024)
        let all = item.timezones + item.components
        var blocks = all.filter { !skip.skipsComponent($0.name) }.map { component($0, skip) }
        blocks.sort(by: lexicographicallyPrecedes)
        for b in blocks { out.append(contentsOf: b) }
        return out
    }

    /// The canonical bytes of one component and its sub-components.
    public static func bytes(of component: ICalComponent, skipping skip: SkipList = .none) -> [UInt8] {
        self.component(component, skip)
    }

    /// The lowercase hex SHA-256 of `bytes(of:skipping:)`.
    public static func hash(of item: ICalItem, skipping skip: SkipList = .none) -> String {
        hex(SHA256.hash(data: bytes(of: item, skipping: skip)))
    }

    /// The lowercase hex SHA-256 of one component's canonical bytes.
    public static func hash(of component: ICalComponent, skipping skip: SkipList = .none) -> String {
        hex(SHA256.hash(data: bytes(of: component, skipping: skip)))
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var s = [UInt8]()
        s.reserveCapacity(64)
        for b in digest {
            s.append(digits[Int(b >> 4)])
            s.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: s, as: UTF8.self)
    }

    private static func lexicographicallyPrecedes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.lexicographicallyPrecedes(b)
    }

    private static func component(_ c: ICalComponent, _ skip: SkipList) -> [UInt8] {
        var lines: [[UInt8]] = []
        lines.reserveCapacity(c.properties.count + 2)
        for p in c.properties where !skip.skipsProperty(p.name) {
            let params = canonicalParameters(p.parameters, skip)
            if PropertyTypes.isSetValued(p.name) {
                for v in p.values { lines.append(line(p.name, params, CollectionOfOne(v))) }
            } else {
                lines.append(line(p.name, params, p.values))
            }
        }
        lines.sort(by: lexicographicallyPrecedes)
        if c.properties.contains(where: { PropertyTypes.isSetValued($0.name) }) {
            // A set: the same value listed twice, or on two lines, is one value.
            var unique: [[UInt8]] = []
            for l in lines where unique.last != l { unique.append(l) }
            lines = unique
        }
        var subs = c.components.filter { !skip.skipsComponent($0.name) }.map { component($0, skip) }
        subs.sort(by: lexicographicallyPrecedes)

        var out = [UInt8]()
        out.append(contentsOf: "BEGIN:".utf8)
        out.append(contentsOf: c.name.utf8)
        out.append(ASCII.lf)
        for l in lines { out.append(contentsOf: l); out.append(ASCII.lf) }
        for s in subs { out.append(contentsOf: s) }
        out.append(contentsOf: "END:".utf8)
        out.append(contentsOf: c.name.utf8)
        out.append(ASCII.lf)
        return out
    }

    private static func canonicalParameters(_ params: [ICalParameter], _ skip: SkipList) -> [UInt8] {
        if params.isEmpty { return [] }
        var kept = params.filter { !skip.skipsParameter($0.name) }
        kept.sort { $0.name < $1.name }
        var out = [UInt8]()
        for p in kept {
            out.append(ASCII.semicolon)
            out.append(contentsOf: p.name.utf8)
            out.append(ASCII.equals)
            var values = p.values.map { canonicalParameterValue(p.name, $0) }
            if values.count > 1 { values.sort() }
            var first = true
            for v in values {
                if !first { out.append(ASCII.comma) }
                first = false
                // Quote every value so that delimiters inside it cannot be confused with structure.
                out.append(ASCII.quote)
                for b in v.utf8 {
                    if b == ASCII.quote || b == ASCII.caret || b == ASCII.lf { out.append(ASCII.caret) }
                    out.append(b == ASCII.lf ? 0x6E : b)
                }
                out.append(ASCII.quote)
            }
        }
        return out
    }

    static func canonicalParameterValue(_ name: String, _ value: String) -> String {
        if PropertyTypes.isEnumeratedParameter(name) { return value.uppercased() }
        if PropertyTypes.parameterType(of: name) == .calAddress { return canonicalAddress(value) }
        return value
    }

    /// A URI scheme is case-insensitive (RFC 3986 §3.1): `MAILTO:a@x` = `mailto:a@x`.
    static func canonicalAddress(_ s: String) -> String {
        guard let colon = s.firstIndex(of: ":") else { return s }
        let scheme = s[..<colon]
        guard scheme.contains(where: { $0.isUppercase }) else { return s }
        return scheme.lowercased() + s[colon...]
    }

    private static func line<C: Collection>(_ name: String, _ params: [UInt8], _ values: C) -> [UInt8] where C.Element == ICalValue {
        var out = [UInt8]()
        out.reserveCapacity(name.utf8.count + params.count + 32)
        out.append(contentsOf: name.utf8)
        out.append(contentsOf: params)
        out.append(ASCII.colon)
        var first = true
        for v in values {
            if !first { out.append(ASCII.comma) }
            first = false
            appendCanonical(v, to: &out)
        }
        return out
    }

    /// The canonical text of one value, prefixed by its type.
    public static func appendCanonical(_ v: ICalValue, to out: inout [UInt8]) {
        out.append(contentsOf: v.type.rawValue.utf8)
        out.append(ASCII.equals)
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
            out.append(contentsOf: canonicalAddress(s).utf8)
        default:
            ValueFormatter.append(v, to: &out)
        }
    }

    /// Days (weeks folded in) and exact seconds: `P1W` and `P7D` are one duration, `P1D` and
    /// `PT24H` are not (RFC 5545 §3.3.6: days are nominal, hours exact).
    static func canonicalDuration(_ d: ICalDuration) -> String {
        let days = d.nominalDays, secs = d.exactSeconds
        if days == 0 && secs == 0 { return "PT0S" }
        return (d.isNegative ? "-P" : "P") + "\(days)DT\(secs)S"
    }

    /// Defaults removed and lists sorted: `INTERVAL=1` and `WKST=MO` are what a rule means
    /// without them, and BYxxx lists are sets.
    static func canonicalRecur(_ r: ICalRecur) -> ICalRecur {
        var c = r
        if c.interval == 1 { c.interval = nil }
        if c.wkst == "MO" { c.wkst = nil }
        c.bySecond.sort(); c.byMinute.sort(); c.byHour.sort(); c.byMonthDay.sort()
        c.byYearDay.sort(); c.byWeekNo.sort(); c.byMonth.sort(); c.bySetPos.sort()
        c.byDay.sort()
        c.extensions.sort { ($0.name, $0.value) < ($1.name, $1.value) }
        return c
    }
}
