import Crypto

/// A quick look at a feed's bytes without parsing them: where each item's components are (by
/// UID) and what lies outside them (each calendar's own properties, its VTIMEZONEs). A sync
/// pass uses it to recognize items whose bytes are exactly those it processed last time, and to
/// parse only the others.
///
/// The scan is strict: anything it is not sure to read as the parser does (a folded, escaped
/// or parameterized UID, a component without UID, names not in upper case, unbalanced BEGIN and
/// END, text outside a VCALENDAR) makes it give up (`scan` returns nil), and the whole feed is
/// then parsed as usual.
public struct FeedScan: Sendable {
    /// An item: its UID and the byte ranges of its components, in feed order.
    public struct Item: Sendable {
        public var key: String
        public var ranges: [Range<Int>]
    }

    /// The items, in the order their UIDs first appear.
    public var items: [Item]
    /// The SHA-256 of every byte outside the item components: what each item's zones and
    /// calendar come from.
    public var contextDigest: [UInt8]

    public static func scan(_ bytes: [UInt8]) -> FeedScan? {
        bytes.withUnsafeBufferPointer { scan($0) }
    }

    private static func scan(_ b: UnsafeBufferPointer<UInt8>) -> FeedScan? {
        var items: [Item] = []
        var index: [String: Int] = [:]
        var context = SHA256()
        var contextStart = 0
        var stack: [ArraySlice<UInt8>] = []
        var itemStart = -1
        var uid: String?
        var afterUID = false
        var position = 0
        if b.count >= 3, b[0] == 0xEF, b[1] == 0xBB, b[2] == 0xBF { position = 3 }
        while position < b.count {
            let start = position
            var end = start
            while end < b.count, b[end] != ASCII.lf { end += 1 }
            let next = end < b.count ? end + 1 : end
            if end > start, b[end - 1] == ASCII.cr { end -= 1 }
            position = next
            let line = UnsafeBufferPointer(rebasing: b[start..<end])
            if line.isEmpty { continue }
            if line[0] == ASCII.space || line[0] == ASCII.tab {
                if afterUID { return nil } // a folded UID
                continue
            }
            afterUID = false
            if hasPrefix(line, "BEGIN:") {
                let name = Array(line[6...])[...]
                guard isUpperName(name) else { return nil }
                if stack.isEmpty {
                    guard name.elementsEqual("VCALENDAR".utf8) else { return nil }
                } else if stack.count == 1, isItem(name) {
                    itemStart = start
                    uid = nil
                }
                stack.append(name)
            } else if hasPrefix(line, "END:") {
                let name = line[4...]
                guard let open = stack.popLast(), open.elementsEqual(name) else { return nil }
                if stack.count == 1, itemStart >= 0 {
                    guard let key = uid else { return nil } // no UID: the parser derives a key
                    context.update(bufferPointer: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: b[contextStart..<itemStart])))
                    contextStart = next
                    if let i = index[key] {
                        items[i].ranges.append(itemStart..<next)
                    } else {
                        index[key] = items.count
                        items.append(Item(key: key, ranges: [itemStart..<next]))
                    }
                    itemStart = -1
                }
            } else if stack.isEmpty {
                return nil // text outside a VCALENDAR
            } else if line.prefixEqualsUppercased("BEGIN:") || line.prefixEqualsUppercased("END:") {
                return nil // BEGIN or END not in upper case: leave it to the parser
            } else if itemStart >= 0, stack.count == 2, line.count >= 4, line[0] == 0x55, line[1] == 0x49, line[2] == 0x44 { // UID
                guard line[3] == ASCII.colon, uid == nil else { return nil } // parameters, or a second UID
                let value = line[4...]
                // Printable ASCII without backslash reads as itself (no escapes, no repair).
                guard !value.isEmpty, value.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != ASCII.backslash }) else { return nil }
                uid = String(decoding: value, as: UTF8.self)
                afterUID = true
            }
        }
        guard stack.isEmpty else { return nil }
        context.update(bufferPointer: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: b[contextStart..<b.count])))
        return FeedScan(items: items, contextDigest: Array(context.finalize()))
    }

    /// The hex SHA-256 of each item's source: `salt` (what else its processing depends on), the
    /// context digest, then the bytes of its components. Computed on every core.
    public func digests(of bytes: [UInt8], salt: [UInt8]) -> [String] {
        let contextDigest = contextDigest
        return items.concurrentMap(state: { () }) { _, item in
            var h = SHA256()
            h.update(data: salt)
            h.update(data: contextDigest)
            bytes.withUnsafeBytes { raw in
                for r in item.ranges { h.update(bufferPointer: UnsafeRawBufferPointer(rebasing: raw[r])) }
            }
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

    private static func hasPrefix(_ line: UnsafeBufferPointer<UInt8>, _ prefix: StaticString) -> Bool {
        let n = prefix.utf8CodeUnitCount
        guard line.count >= n else { return false }
        let p = prefix.utf8Start
        for i in 0..<n where line[i] != p[i] { return false }
        return true
    }

    private static func isUpperName(_ name: ArraySlice<UInt8>) -> Bool {
        !name.isEmpty && name.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
    }

    private static func isItem(_ name: ArraySlice<UInt8>) -> Bool {
        name.elementsEqual("VEVENT".utf8) || name.elementsEqual("VTODO".utf8) || name.elementsEqual("VJOURNAL".utf8)
    }
}
