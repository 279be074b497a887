/// Random secrets: bearer tokens and link keys, made from the system's secure generator.
public enum RandomToken {
    /// `bytes` random bytes (at most 32) in lowercase hex.
    public static func hex(bytes: Int) -> String {
        precondition(bytes <= 32, "at most 32 bytes")
        var rng = SystemRandomNumberGenerator()
        return CanonicalForm.hex((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }
}
