/// How far a pass has come, told to `SyncPass.onProgress` as it goes (for a progress line).
public enum PassProgress: Sendable, Hashable {
    /// The feed's new body arrived (its size in bytes).
    case fetched(bytes: Int)
    /// The feed's items are parsed, filtered and hashed (or known by their bytes).
    case parsed(items: Int)
    /// `done` of the pass's `total` writes have an answer.
    case applied(done: Int, total: Int)
}
