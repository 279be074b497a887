import CalendarModel
import SyncCore

/// Pure: what a pass does after a write's outcome (`SyncPass` sends, this decides; table tests in
/// `WriteRecoveryTests`). The recoveries are the ones the protocol allows and no more: an add
/// whose UID the target already has adopts that entity; an update refused as stale (or whose
/// entity vanished) refetches the copy, diffs again and retries once; a delete refused as stale
/// (the entity was edited on the target) is sent again once at the version it has now; a delete
/// of what is already gone is done. Everything else is the item's failure, retried by the next pass.
public enum WriteRecovery {
    public enum Next: Sendable, Hashable {
        /// Applied: the item's new state.
        case record(ItemState)
        /// Applied (a delete), or already so: the item is forgotten.
        case forget
        /// Bring the entity at `href` up to date with the item: fetch it, diff, update.
        case bringUpToDate(href: String)
        /// Delete the entity at `href` at the version it has now (it changed since it was written).
        case deleteCurrent(href: String)
        /// Refused for good in this pass, with the reason for the report.
        case fail(String)
        /// No answer: the write may or may not have landed; the pass stops sending.
        case unanswered(String)
    }

    /// After `outcome` of `write`. `retried`: the outcome is the retry's, so nothing is retried
    /// again. `keepContent`: the state keeps what was applied (trust-lastmod diffs against it).
    public static func next(
        after outcome: WriteOutcome, of write: PlannedWrite, retried: Bool = false, keepContent: Bool
    )
        -> Next
    {
        switch (write, outcome) {
        case (_, .unknown(let why)):
            return .unanswered(why)
        case (.add(let key, let calendar, let hash), .applied(let href, let version?)):
            return .record(state(key, hash, href, version, keepContent ? calendar : nil))
        case (.update(let key, _, _, _, let source, let hash), .applied(let href, let version?)):
            return .record(state(key, hash, href, version, keepContent ? source.calendar() : nil))
        case (.delete, .applied):
            return .forget
        case (.add, .refused(let e)):
            guard !retried, case .uidExists(let href) = e.reason else { return .fail(e.message) }
            return .bringUpToDate(href: href)
        case (.update(_, let href, _, _, _, _), .refused(let e)):
            guard !retried, e.reason == .versionStale || e.reason == .notFound else { return .fail(e.message) }
            return .bringUpToDate(href: href)
        case (.delete(_, let href, _), .refused(let e)):
            if e.reason == .notFound { return .forget }
            return !retried && e.reason == .versionStale ? .deleteCurrent(href: href) : .fail(e.message)
        case (.settle(let s), _):
            return .record(s)
        case (_, .applied):
            return .fail("the target's answer carried no version")
        }
    }

    static func state(_ key: String, _ hash: String, _ href: String, _ version: String, _ applied: ICalComponent?)
        -> ItemState
    {
        ItemState(
            key: key, hash: hash, href: href, changeToken: version, content: applied.map { ICalWriter.string([$0]) })
    }
}

extension PlannedWrite {
    /// The intent recorded before the write is sent (nil for a settle, which writes nothing).
    var intent: WriteIntent? {
        switch self {
        case .add(let key, _, _): WriteIntent(key: key, operation: .add, href: nil)
        case .update(let key, let href, _, _, _, _): WriteIntent(key: key, operation: .update, href: href)
        case .delete(let key, let href, _): WriteIntent(key: key, operation: .delete, href: href)
        case .settle: nil
        }
    }

    /// The write the target is sent (nil for a settle).
    func targetWrite(collection: String) -> TargetWrite? {
        switch self {
        case .add(_, let calendar, _): .add(collection: collection, calendar: calendar)
        case .update(_, let href, let token, let update, _, _): .update(href: href, version: token, changes: update)
        case .delete(_, let href, let token): .delete(href: href, version: token)
        case .settle: nil
        }
    }

    /// The item as the feed has it, which a recovery brings the target's copy up to (nil for a
    /// delete or a settle).
    var sourceItem: ICalItem? {
        switch self {
        case .add(let key, let calendar, _): SyncPlanner.item(calendar, key: key)
        case .update(_, _, _, _, let source, _): source
        case .delete, .settle: nil
        }
    }
}
