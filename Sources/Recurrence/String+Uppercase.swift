extension String {
    /// The string uppercased. Most values read case-insensitively (STATUS, TRANSP, FREQ, BYDAY
    /// codes) already are, and are kept as they are.
    var uppercasedIfNeeded: String {
        utf8.contains { ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || $0 >= 0x80 } ? uppercased() : self
    }
}
