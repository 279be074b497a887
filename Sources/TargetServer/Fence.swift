import SyncCore
import CalWS
import GRDB

/// Outboard's fencing of late writes (PROTOCOL.md, "Fencing"): each collection remembers, per
/// writer (a status store), the highest pass number (`O:pass`) its requests have carried, and a
/// write of a lower number of that writer is refused as `staleWriter` with nothing applied. A
/// pass that was killed, or whose answers were lost, may have writes still on their way (held by
/// a proxy, or unread in the server's socket); once the next pass has touched the collection,
/// they can no longer land behind its back, however late they arrive. Only a token that may write
/// a collection fences it: a reader's numbers move nothing, so no one but a writer can fence a
/// writer out; and a new status store (one lost and replaced) is a new writer, never fenced by
/// the old one's numbers.
enum Fence {
    /// The collections a request touches that `grants` may write (a view, or `/`, is none).
    static func collections(of r: CalWSRequest, grants: Grants) -> Set<String> {
        Set(Access.needs(of: r).map(\.collection).filter { Paths.isCollection($0) && grants.allows(.write, $0) })
    }

    /// Raises the writer's fence of each collection to the pass's number (never lowers it).
    static func raise(_ db: Database, _ collections: Set<String>, to pass: PassStamp) throws {
        for c in collections {
            try db.cachedStatement(
                sql: """
                    INSERT INTO fence (collection, writer, pass) VALUES (?1, ?2, ?3)
                    ON CONFLICT (collection, writer) DO UPDATE SET pass = excluded.pass WHERE pass < excluded.pass
                    """
            ).execute(arguments: [c, pass.writer, pass.number])
        }
    }

    /// The highest number the writer has sent for a collection.
    static func current(_ db: Database, _ collection: String, writer: String) throws -> Int? {
        try Int.fetchOne(
            db.cachedStatement(sql: "SELECT pass FROM fence WHERE collection = ? AND writer = ?"),
            arguments: [collection, writer])
    }

    /// The refusal of a write of `pass` when a later pass of its writer has touched one of the
    /// collections, or nil (and the fences raised to `pass`). A freshness report is neither: it
    /// writes no entity, and comes after its pass's last write.
    static func admit(_ db: Database, _ r: CalWSRequest, pass: PassStamp, grants: Grants) throws -> CalWSResponse? {
        if case .reportFreshness = r.body { return nil }
        let touched = collections(of: r, grants: grants)
        for c in touched.sorted() {
            if let later = try current(db, c, writer: pass.writer), later > pass.number {
                return Operation.failure(
                    r, .staleWriter,
                    "pass \(pass.number) of \(c)'s writer is older than pass \(later), which has since read or written it: nothing was applied"
                )
            }
        }
        try raise(db, touched, to: pass)
        return nil
    }

    /// Whether a read of `pass` would raise a fence (it then raises them first, in a write
    /// transaction of its own, so that no older write can land between the raise and the read).
    static func isBehind(_ db: Database, _ collections: Set<String>, pass: PassStamp) throws -> Bool {
        try collections.contains { (try current(db, $0, writer: pass.writer) ?? .min) < pass.number }
    }
}
