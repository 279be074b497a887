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
            var position = conditional ? run.state.position : nil
            let read = { (from: FeedPosition?) async throws(FetchError) -> FeedAnswer in
                try await source.answer(subscription, from: from) {
                    digest.received($0)
                    stored.start()
                }
            }
            if case .token("")? = position { position = await members(stored) }
            var answer = try await read(position)
            if case .tokenInvalid = answer.result, position != nil {
                run.report.diagnostics.append(
                    "the source could not say what changed since the stored token (it no longer knows it, or cut its answer short): its members were listed and compared by ETag"
                )
                answer = try await read(await members(stored))
            }
            if case .changes(let changes) = answer.result, case .token? = position,
                let same = await unchangedButListed(changes, stored), same > 0
            {
                run.report.diagnostics.append(
                    "the source listed \(same) members as changed since the stored token at the ETag last applied: "
                        + "its members were listed and compared by ETag")
                answer = try await read(await members(stored))
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

    /// The members the store holds items from, with the ETags last applied: where a collection is
    /// read from when it gives no token or refuses the stored one. Nil (read everything) when the
    /// store holds none, or cannot be read (the pass then fails on it).
    func members(_ stored: StartedOnce<[String: ItemState]>) async -> FeedPosition? {
        guard let known = try? await stored.value() else { return nil }
        var members: [String: String] = [:]
        for state in known.values {
            if let origin = state.origin { members[origin] = state.source ?? "" }
        }
        return members.isEmpty ? nil : .members(members)
    }

    /// How many members a collection listed as changed since the stored token while the store
    /// holds them at the same ETag: a server that answered a token it no longer knows as if it
    /// were read from scratch (and so would not report what it deleted).
    func unchangedButListed(_ changes: FeedChanges, _ stored: StartedOnce<[String: ItemState]>) async -> Int? {
        guard !changes.complete, let known = try? await stored.value() else { return nil }
        var etags: [String: String] = [:]
        for state in known.values {
            if let origin = state.origin, let etag = state.source { etags[origin] = etag }
        }
        return changes.changed.count { r in r.etag != nil && etags[r.href] == r.etag }
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
