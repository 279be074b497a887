import Crypto
#if canImport(Glibc)
    import Glibc
#endif

/// A quick look at a feed's bytes without parsing them: where each item's components are (by
/// UID) and what lies outside them (each calendar's own properties, its VTIMEZONEs). A sync
/// pass uses it to recognize items whose bytes are exactly those it processed last time, and to
/// parse only the others.
///
/// The scan is strict: anything it is not sure to read as the parser does (a folded, escaped
/// or parameterized UID, a component without UID, names not in upper case, unbalanced BEGIN and
/// END, text outside a VCALENDAR) makes it give up (`scan` returns nil), and the whole feed is
/// then parsed as usual.
public struct FeedScan: Sendable, Equatable {
    /// An item: its UID, the byte ranges of its components, in feed order, and the SHA-256 of
    /// their bytes.
    public struct Item: Sendable, Equatable {
        public var key: String
        public var ranges: [Range<Int>]
        public var digest: [UInt8]
        /// Components the parser will leave out as copies (a second master, or a second override
        /// with one RECURRENCE-ID): what `ItemSet.duplicates` says of the item once parsed.
        public var duplicates = 0
    }

    /// The items, in the order their UIDs first appear.
    public var items: [Item]
    /// The SHA-256 of every byte outside the item components: what each item's zones and
    /// calendar come from.
    public var contextDigest: [UInt8]

    public static func scan(_ bytes: [UInt8]) -> FeedScan? {
        var scanner = FeedScanner()
        return bytes.withUnsafeBufferPointer { scanner.finish($0) }
    }

    /// The hex SHA-256 of each item's source: `salt` (what else its processing depends on), the
    /// context digest, then the digest of its components' bytes. Computed on every core.
    public func digests(salt: [UInt8]) -> [String] {
        let contextDigest = contextDigest
        return items.concurrentMap(state: { () }) { _, item in
            var h = SHA256()
            h.update(data: salt)
            h.update(data: contextDigest)
            h.update(data: item.digest)
            return CanonicalForm.hex(h.finalize())
        }
    }

    /// The feed without the components of the items not in `keys`: every calendar with its
    /// properties and zones, and only the kept items, each where it was.
    public func subset(of bytes: [UInt8], keeping keys: Set<String>) -> [UInt8] {
        var dropped: [Range<Int>] = []
        for item in items where !keys.contains(item.key) { dropped += item.ranges }
        dropped.sort { $0.lowerBound < $1.lowerBound }
        var out: [UInt8] = []
        var from = 0
        for r in dropped {
            out.append(contentsOf: bytes[from..<r.lowerBound])
            from = r.upperBound
        }
        out.append(contentsOf: bytes[from...])
        return out
    }
}

/// `FeedScan` made a piece at a time, as the bytes arrive: `scan` reads the complete lines of
/// what has come so far, `finish` the rest, then digests the items' bytes on every core.
public struct FeedScanner: Sendable {
    private var items: [FeedScan.Item] = []
    private var index: [String: Int] = [:]
    private var context = SHA256()
    private var contextStart = 0
    private var stack: [ArraySlice<UInt8>] = []
    private var itemStart = -1
    private var uid: String?
    /// The current item component's RECURRENCE-ID line as written (nil: a master).
    private var rid: [UInt8]?
    /// The RECURRENCE-ID lines of each item's components so far, by item index (a master as an
    /// empty line), to count copies as the grouper will.
    private var identities: [Int: [[UInt8]]] = [:]
    /// The last line was a UID or a RECURRENCE-ID: a folded one is left to the parser.
    private var afterUID = false
    /// Where the next line starts.
    private var position = 0
    /// Gave up: the feed is left to the parser.
    private var failed = false

    public init() {}

    /// Reads the complete lines of `b` (the bytes so far, always from the first) not read yet.
    public mutating func scan(_ b: UnsafeBufferPointer<UInt8>) {
        read(b, final: false)
    }

    /// Reads the rest of `b` (the whole feed): the scan, or nil if it gave up.
    public mutating func finish(_ b: UnsafeBufferPointer<UInt8>) -> FeedScan? {
        read(b, final: true)
        guard !failed, stack.isEmpty else { return nil }
        context.update(bufferPointer: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: b[contextStart..<b.count])))
        let bytes = UncheckedSendable(b)
        let digests = items.concurrentMap(state: { () }) { _, item -> [UInt8] in
            var h = SHA256()
            for r in item.ranges {
                h.update(bufferPointer: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes.value[r])))
            }
            return Array(h.finalize())
        }
        var result = items
        for i in result.indices { result[i].digest = digests[i] }
        return FeedScan(items: result, contextDigest: Array(context.finalize()))
    }

    private mutating func read(_ b: UnsafeBufferPointer<UInt8>, final: Bool) {
        if position == 0 {
            guard b.count >= 3 || final else { return }
            if b.count >= 3, b[0] == 0xEF, b[1] == 0xBB, b[2] == 0xBF { position = 3 }
        }
        while !failed, position < b.count {
            let start = position
            var end = b.count
            if let lf = memchr(b.baseAddress! + start, Int32(ASCII.lf), b.count - start) {
                end = start + (UnsafeRawPointer(lf) - UnsafeRawPointer(b.baseAddress! + start))
            }
            if end == b.count, !final { return }  // the rest of this line is still to come
            let next = end < b.count ? end + 1 : end
            if end > start, b[end - 1] == ASCII.cr { end -= 1 }
            position = next
            if !line(UnsafeBufferPointer(rebasing: b[start..<end]), start: start, next: next, b) { failed = true }
        }
    }

    /// Reads one line (from `start`, the next from `next`); false to give up.
    private mutating func line(
        _ line: UnsafeBufferPointer<UInt8>, start: Int, next: Int, _ b: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        if line.isEmpty { return true }
        if line[0] == ASCII.space || line[0] == ASCII.tab {
            return !afterUID  // a folded UID
        }
        afterUID = false
        if line.hasPrefix("BEGIN:") {
            let name = Array(line[6...])[...]
            guard Self.isUpperName(name) else { return false }
            if stack.isEmpty {
                guard name.elementsEqual("VCALENDAR".utf8) else { return false }
            } else if stack.count == 1, Self.isItem(name) {
                itemStart = start
                uid = nil
                rid = nil
            }
            stack.append(name)
        } else if line.hasPrefix("END:") {
            let name = line[4...]
            guard let open = stack.popLast(), open.elementsEqual(name) else { return false }
            if stack.count == 1, itemStart >= 0 {
                guard let key = uid else { return false }  // no UID: the parser derives a key
                context.update(
                    bufferPointer: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: b[contextStart..<itemStart])))
                contextStart = next
                let i =
                    index[key]
                    ?? {
                        index[key] = items.count
                        items.append(FeedScan.Item(key: key, ranges: [], digest: []))
                        return items.count - 1
                    }()
                items[i].ranges.append(itemStart..<next)
                itemStart = -1
                guard count(rid ?? [], in: i) else { return false }
            }
        } else if stack.isEmpty {
            return false  // text outside a VCALENDAR
        } else if line.prefixEqualsUppercased("BEGIN:") || line.prefixEqualsUppercased("END:") {
            return false  // BEGIN or END not in upper case: leave it to the parser
        } else if itemStart >= 0, stack.count == 2, line.count >= 4, line[0] == 0x55, line[1] == 0x49, line[2] == 0x44
        {  // UID
            guard line[3] == ASCII.colon, uid == nil else { return false }  // parameters, or a second UID
            let value = line[4...]
            // Printable ASCII without backslash reads as itself (no escapes, no repair).
            guard !value.isEmpty, value.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != ASCII.backslash }) else {
                return false
            }
            uid = String(decoding: value, as: UTF8.self)
            afterUID = true
        } else if itemStart >= 0, stack.count == 2, line.count > 13,
            line[13] == ASCII.colon || line[13] == ASCII.semicolon,
            line.prefixEqualsUppercased("RECURRENCE-ID")
        {
            // Not in upper case, or a second one.
            guard line.hasPrefix("RECURRENCE-ID"), rid == nil else { return false }
            rid = Array(line)
            afterUID = true
        }
        return true
    }

    /// Counts a component of item `i` by its RECURRENCE-ID line (empty for a master): a line seen
    /// before in the item is a copy. False (give up) when two lines differ in their parameters
    /// but not their value, which the parser may or may not take for one RECURRENCE-ID.
    private mutating func count(_ identity: [UInt8], in i: Int) -> Bool {
        let seen = identities[i, default: []]
        if seen.contains(identity) {
            items[i].duplicates += 1
            return true
        }
        func value(_ line: [UInt8]) -> ArraySlice<UInt8> {
            line.lastIndex(of: ASCII.colon).map { line[($0 + 1)...] } ?? []
        }
        if !identity.isEmpty, seen.contains(where: { !$0.isEmpty && value($0) == value(identity) }) { return false }
        identities[i, default: []].append(identity)
        return true
    }

    private static func isUpperName(_ name: ArraySlice<UInt8>) -> Bool {
        !name.isEmpty && name.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
    }

    private static func isItem(_ name: ArraySlice<UInt8>) -> Bool {
        name.elementsEqual("VEVENT".utf8) || name.elementsEqual("VTODO".utf8) || name.elementsEqual("VJOURNAL".utf8)
    }
}

/// A feed digested as it downloads: its SHA-256 and, if asked, its `FeedScan`. `received` is
/// called (by one thread at a time) with the bytes so far each time more arrive; `finish`,
/// once they all have, with the whole feed.
public final class FeedDigest: @unchecked Sendable {
    private var hash = SHA256()
    private var hashed = 0
    private var scanner: FeedScanner?

    public init(scanning: Bool) {
        scanner = scanning ? FeedScanner() : nil
    }

    public func received(_ body: UnsafeBufferPointer<UInt8>) {
        if scanner != nil {
            scanner?.scan(body)  // the scan digests every byte (see `finish`)
        } else if body.count >= hashed {  // else not the same body: `finish` starts again
            hash.update(bufferPointer: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: body[hashed...])))
            hashed = body.count
        }
    }

    /// A digest of `body`, and its scan (nil when not scanning, or when the scan gave up). The
    /// digest is the SHA-256 of the body, or, when it was scanned, the SHA-256 of its length,
    /// its context digest, and each item's key, ranges and digest: what determines every byte,
    /// without digesting the bytes twice.
    public func finish(_ body: [UInt8]) -> (sha256: String, scan: FeedScan?) {
        body.withUnsafeBufferPointer { b in
            if var s = scanner, let scan = s.finish(b) {
                var h = SHA256()
                func add(_ v: Int) { withUnsafeBytes(of: UInt64(v).littleEndian) { h.update(bufferPointer: $0) } }
                add(b.count)
                h.update(data: scan.contextDigest)
                for item in scan.items {
                    add(item.key.utf8.count)
                    h.update(data: Array(item.key.utf8))
                    add(item.ranges.count)
                    for r in item.ranges {
                        add(r.lowerBound)
                        add(r.upperBound)
                    }
                    h.update(data: item.digest)
                }
                return ("scan:" + CanonicalForm.hex(h.finalize()), scan)
            }
            if hashed > b.count || scanner != nil {
                hash = SHA256()
                hashed = 0
            }
            hash.update(bufferPointer: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: b[hashed...])))
            return (CanonicalForm.hex(hash.finalize()), nil)
        }
    }
}
