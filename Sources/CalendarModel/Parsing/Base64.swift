/// Base64 (RFC 4648 §4) decoding for `ENCODING=BASE64` on non-BINARY values.
enum Base64 {
    private static let table: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// The decoded bytes, or nil when `b` is not base64. Whitespace is ignored.
    static func decode(_ b: Bytes) -> [UInt8]? {
        var out = [UInt8]()
        out.reserveCapacity(b.count * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        var padding = 0
        for c in b {
            if c == ASCII.space || c == ASCII.tab || c == ASCII.cr || c == ASCII.lf { continue }
            if c == ASCII.equals {
                padding += 1
                continue
            }
            guard padding == 0 else { return nil }
            let v = table[Int(c)]
            guard v != 0xFF else { return nil }
            acc = (acc << 6) | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        guard padding <= 2 else { return nil }
        return out
    }
}
