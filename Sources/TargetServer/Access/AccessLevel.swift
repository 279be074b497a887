/// How much of a collection (or view) a token may use, each level including the ones below it.
public enum AccessLevel: Int, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    /// Free/busy only: `POST /availability`, CalWS `freebusyReport`, `?view=busy` feeds and busy views.
    case freebusy
    /// Everything that reads: published feeds, CalWS reads, and all that free/busy allows.
    case read
    /// Reads and writes (`addItem`, `updateItem`, `deleteItem`, `multiOp`).
    case write

    /// The name written after the path in the tokens file (`/people/alice:read`).
    public var description: String {
        switch self {
        case .freebusy: "freebusy"
        case .read: "read"
        case .write: "write"
        }
    }

    /// The level a name gives; `write` is what a path alone grants.
    public init?(name: String) {
        guard let level = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = level
    }

    public static func < (a: AccessLevel, b: AccessLevel) -> Bool { a.rawValue < b.rawValue }
}
