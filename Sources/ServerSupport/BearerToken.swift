/// The token of an `Authorization: Bearer TOKEN` header (RFC 6750 §2.1): the scheme matched
/// without regard to case, surrounding blanks dropped; nil for any other header or none. Both
/// servers read their tokens through it.
public enum BearerToken {
    public static func parse(_ header: String?) -> String? {
        guard var rest = header?.drop(while: isBlank), rest.count > 7, rest.prefix(7).lowercased() == "bearer " else {
            return nil
        }
        rest = rest.dropFirst(7).drop(while: isBlank)
        while let last = rest.last, isBlank(last) { rest = rest.dropLast() }
        return rest.isEmpty ? nil : String(rest)
    }

    /// Compares two tokens in time that does not depend on where they differ.
    public static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<min(x.count, y.count) { diff |= x[i] ^ y[i] }
        return diff == 0
    }

    private static func isBlank(_ c: Character) -> Bool { c == " " || c == "\t" }
}
