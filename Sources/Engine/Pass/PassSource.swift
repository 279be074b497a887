import CalendarModel
import Filters
import Foundation
import SyncCore

/// The source as one pass reads it: the fetch from the stored position, and what it brought as
/// the planner takes it.
struct PassSource {
    var subscription: Subscription
    var filters: FilterPipeline
    var store: any ItemStateStore
    var source: any FeedSource

    /// What a fetch brought: a new body, digested and scanned as it arrived, or the changes since
    /// the token; with the item states read meanwhile.
    struct Fetched {
        var body: [UInt8] = []
        var changes: FeedChanges?
        /// Where the source stands once this is applied.
        var position: FeedPosition?
        var bodyHash: String?
        var scan: FeedScan?
        var stored: StartedOnce<[String: ItemState]>
    }

    /// Whether unchanged items may be settled by their bytes (see `FeedScan`): not with filters
    /// that depend on the time, and not when items are keyed by content (the scan finds them by
    /// UID, which such a feed changes on every export).
    var settlesByBytes: Bool { filters.fingerprint != nil && subscription.identity == .uid }

    /// The fetch from the stored position. While a new body downloads, it is digested and its
    /// items scanned, and the item states are read from the status store (a 304 reads none). Nil
    /// when the feed has not changed (a 304, or the body applied last time: recorded as a
    /// success) or could not be fetched (recorded as a failure). After an unfinished pass, and
    /// when the source no longer knows its token, the source is read from no position.
    func fetch(_ run: inout PassRun) async -> Fetched? {
        let digest = FeedDigest(scanning: settlesByBytes)
        let stored = StartedOnce { [store, id = subscription.id] in try store.items(id) }
        let conditional = !run.dryRun && !run.shortcutsBarred
        var fetched = Fetched(stored: stored)
        do {
            let position = conditional ? run.state.position : nil
            let read = { (from: FeedPosition?) async throws(FetchError) -> FeedAnswer in
                try await source.answer(subscription, from: from) {
                    digest.received($0)
                    stored.start()
                }
            }
            var answer = try await read(position)
            if case .tokenInvalid = answer.result, position != nil {
                run.report.diagnostics.append(
                    "the source no longer knows the stored token: the whole collection was read and compared")
                answer = try await read(nil)
            }
            run.report.fetchShared = answer.shared
            switch answer.result {
            case .notModified:
                run.unchanged(position: nil, store)
                return nil
            case .body(let b, let etag, let lastModified):
                fetched.body = b
                fetched.position = .validators(etag: etag, lastModified: lastModified)
            case .changes(let changes):
                stored.start()
                fetched.changes = changes
                fetched.position = .token(changes.token)
                return fetched
            case .tokenInvalid:
                return run.failed("\(subscription.id): the source refused to be read from no position", .parse, store)
            }
        } catch {
            if case .http(_, _, _, let retry) = error { run.report.retryAfter = retry }
            return run.failed("\(error)", PassErrorKind(error), store)
        }
        let (bodyHash, scan) = digest.finish(fetched.body)
        if conditional, run.state.bodyHash == bodyHash, run.state.lastError == nil {
            run.unchanged(position: fetched.position, store)
            return nil
        }
        (fetched.bodyHash, fetched.scan) = (bodyHash, scan)
        return fetched
    }

    /// The fetched feed as the planner takes it (`FeedInput`); nil when it cannot be read
    /// (recorded as a failure).
    func read(_ fetched: Fetched, _ run: inout PassRun) async -> FeedInput? {
        do {
            let known = try await fetched.stored.value()
            let context = FeedInput.Context(
                subscription: subscription, filters: filters, now: run.now, shortcutsBarred: run.shortcutsBarred)
            if let changes = fetched.changes {
                return try FeedInput.changes(changes, known: known, context, report: &run.report)
            }
            return try FeedInput.read(
                fetched.body, scan: fetched.scan, known: known, context, report: &run.report, state: &run.state)
        } catch let unreadable as FeedInput.Unreadable {
            return run.failed(unreadable.description, .parse, store)
        } catch {
            return run.failed("cannot read the status store: \(error)", .store, store)
        }
    }
}
