/// A borrowed run of bytes. The parser works on these and makes a `String` only for what it keeps.
typealias Bytes = UnsafeBufferPointer<UInt8>

enum ASCII {
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C
    static let minus: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let slash: UInt8 = 0x2F
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let equals: UInt8 = 0x3D
    static let backslash: UInt8 = 0x5C
    static let caret: UInt8 = 0x5E
    static let apostrophe: UInt8 = 0x27

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b &- zero < 10 }
    @inline(__always) static func upper(_ b: UInt8) -> UInt8 { (b &- 0x61 < 26) ? b &- 0x20 : b }
    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { (b &- 0x41 < 26) ? b &+ 0x20 : b }
}

/// Eight bytes at a time: word-wide tests used by the scanners and escapers.
enum SWAR {
    /// A word whose high bit is set in every byte of `w` equal to `b` (and maybe in a byte just
    /// above one that is: callers use it only to leave the fast path).
    @inline(__always) static func matches(_ w: UInt64, _ b: UInt8) -> UInt64 {
        let x = w ^ (0x0101_0101_0101_0101 &* UInt64(b))
        return (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080
    }

    /// Nonzero when some byte of `w` is below 0x20 (a control character: TAB, LF, CR, …).
    @inline(__always) static func hasControl(_ w: UInt64) -> UInt64 {
        (w &- 0x2020_2020_2020_2020) & ~w & 0x8080_8080_8080_8080
    }

    @inline(__always) static func load(_ b: Bytes, _ i: Int) -> UInt64 {
        UnsafeRawPointer(b.baseAddress! + i).loadUnaligned(as: UInt64.self)
    }
}

extension Array where Element == UInt8 {
    /// Appends a string's UTF-8 bytes in one copy (`append(contentsOf: s.utf8)` goes byte by byte
    /// through the view).
    @inline(__always) mutating func appendUTF8(_ s: String) {
        var s = s
        s.withUTF8 { append(contentsOf: $0) }
    }

    /// Appends a literal's bytes in one copy.
    @inline(__always) mutating func append(literal s: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// The bytes in `range`, as their own buffer.
    @inline(__always) func slice(_ lower: Int, _ upper: Int) -> Bytes {
        Bytes(rebasing: self[lower..<upper])
    }

    /// The bytes decoded as UTF-8 (the parser has already repaired invalid sequences).
    @inline(__always) var string: String { String(decoding: self, as: UTF8.self) }

    /// The bytes as an uppercased ASCII string (for names and enumerated values).
    var upperString: String {
        var needs = false
        for b in self where b &- 0x61 < 26 {
            needs = true
            break
        }
        if !needs { return string }
        return String(unsafeUninitializedCapacity: count) { out in
            for i in 0..<count { out[i] = ASCII.upper(self[i]) }
            return count
        }
    }

    /// True when the bytes begin with exactly `literal`.
    func hasPrefix(_ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard count >= n else { return false }
        let p = literal.utf8Start
        for i in 0..<n where self[i] != p[i] { return false }
        return true
    }

    /// True when the bytes begin with `literal` ignoring ASCII case (`literal` must be uppercase).
    func prefixEqualsUppercased(_ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard count >= n else { return false }
        return slice(0, n).equalsUppercased(literal)
    }

    /// True when the bytes equal `literal` ignoring ASCII case (`literal` must be uppercase).
    func equalsUppercased(_ literal: StaticString) -> Bool {
        guard literal.utf8CodeUnitCount == count else { return false }
        let p = literal.utf8Start
        for i in 0..<count where ASCII.upper(self[i]) != p[i] { return false }
        return true
    }

    /// The bytes with leading and trailing spaces and tabs removed.
    var trimmed: Bytes {
        var lo = 0
        var hi = count
        while lo < hi, self[lo] == ASCII.space || self[lo] == ASCII.tab { lo += 1 }
        while hi > lo, self[hi - 1] == ASCII.space || self[hi - 1] == ASCII.tab { hi -= 1 }
        return slice(lo, hi)
    }

    /// Reads exactly `n` digits at `offset` as a number, or nil.
    @inline(__always) func digits(at offset: Int, _ n: Int) -> Int? {
        guard offset + n <= count else { return nil }
        var v = 0
        for i in offset..<(offset + n) {
            let d = self[i] &- ASCII.zero
            guard d < 10 else { return nil }
            v = v * 10 + Int(d)
        }
        return v
    }

    /// Splits on `separator`, skipping separators escaped by a backslash when `escapes` is set.
    func split(on separator: UInt8, escapes: Bool) -> [Bytes] {
        var parts: [Bytes] = []
        var start = 0
        var i = 0
        while i < count {
            let b = self[i]
            if escapes && b == ASCII.backslash {
                i += 2
                continue
            }
            if b == separator {
                parts.append(slice(start, i))
                start = i + 1
            }
            i += 1
        }
        parts.append(slice(start, count))
        return parts
    }
}

enum UTF8Check {
    /// True when `bytes` is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, ≤ U+10FFFF).
    static func isValid(_ bytes: Bytes) -> Bool {
        var i = 0
        let n = bytes.count
        guard let base = bytes.baseAddress else { return true }
        while i < n {
            // Skip ASCII eight bytes at a time.
            while i + 8 <= n, UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                i += 8
            }
            guard i < n else { break }
            let b = bytes[i]
            if b < 0x80 {
                i += 1
                continue
            }
            let len: Int
            var lo: UInt8 = 0x80
            var hi: UInt8 = 0xBF
            switch b {
            case 0xC2...0xDF: len = 2
            case 0xE0:
                len = 3
                lo = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: len = 3
            case 0xED:
                len = 3
                hi = 0x9F
            case 0xF0:
                len = 4
                lo = 0x90
            case 0xF1...0xF3: len = 4
            case 0xF4:
                len = 4
                hi = 0x8F
            default: return false
            }
            guard i + len <= n else { return false }
            let b1 = bytes[i + 1]
            guard b1 >= lo && b1 <= hi else { return false }
            for k in 2..<max(2, len) where bytes[i + k] & 0xC0 != 0x80 { return false }
            i += len
        }
        return true
    }
}

extension String {
    /// The string with ASCII letters upper-cased, without Unicode case mapping for an ASCII
    /// string (names of properties, parameters and components).
    public func asciiUppercased() -> String { mappingASCII(ASCII.upper) { uppercased() } }

    /// The string with ASCII letters lower-cased, likewise.
    public func asciiLowercased() -> String { mappingASCII(ASCII.lower) { lowercased() } }

    /// `map` applied to every byte of an ASCII string; `unicode` for any other.
    private func mappingASCII(_ map: (UInt8) -> UInt8, unicode: () -> String) -> String {
        var s = self
        return s.withUTF8 { b in
            if b.contains(where: { $0 >= 0x80 }) { return unicode() }
            guard b.contains(where: { map($0) != $0 }) else { return self }
            return String(unsafeUninitializedCapacity: b.count) { out in
                for i in b.indices { out[i] = map(b[i]) }
                return b.count
            }
        }
    }
}
