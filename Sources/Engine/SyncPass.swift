import CalendarModel
import CalWS
import Filters
import Foundation
import SyncCore

/// What one pass did.
public struct SyncReport: Sendable {
    public var subscription: String
    /// The feed answered 304, or its body was the one already applied: nothing else was done.
    public var notModified = false
    public var added: [String] = []
    public var updated: [(key: String, edits: Int)] = []
    public var deleted: [String] = []
    public var unchanged = 0
    public var dropped = 0
    /// Items that failed, with why; they are retried next pass.
    public var failed: [(key: String, reason: String)] = []
    /// Why the pass as a whole failed (fetch, parse, guard), if it did.
    public var error: String?
    /// The kind of that failure, for metrics and alerts.
    public var errorKind: PassErrorKind?
    /// With --dry-run: what would be done, one line per edit.
    public var plan: [String] = []
    /// Every target item was compared with the feed.
    public var reconciled = false
    /// Seconds the feed's server asked to wait (Retry-After on a 429 or 503).
    public var retryAfter: Int?
    /// How many unchanged items were recognized by their bytes (see `FeedScan`), without being
    /// parsed, filtered or hashed.
    public var settledUnparsed = 0
    /// How many of the target's copies of changed items were fetched (with trust-lastmod, only
    /// those whose LAST-MODIFIED on the target is not the one recorded).
    public var copiesFetched = 0

    public init(subscription: String) {
        self.subscription = subscription
    }

    /// True when the feed was applied completely.
    public var succeeded: Bool { error == nil && failed.isEmpty }
}

/// Kinds of failed passes (the `kind` label of `outboard_pass_errors_total`).
public enum PassErrorKind: String, Sendable, CaseIterable {
    /// The feed could not be reached: DNS, refused, TLS, timeout.
    case fetch
    /// The feed's server answered an HTTP error status.
    case http
    /// The feed exceeded max-feed-bytes.
    case tooLarge = "too-large"
    /// A secret (feed credentials, target token) could not be read.
    case secret
    /// The feed is not iCalendar.
    case parse
    /// A deletion guard stopped the pass.
    case `guard`
    /// The target failed or refused a request.
    case target
    /// The status store could not be read or written.
    case store
    /// Some items failed (they are retried next pass).
    case items
    /// The pass stopped between batches because the daemon is shutting down.
    case interrupted
    /// Another pass of the subscription was running; this one did not start.
    case busy

    init(_ e: FetchError) {
        switch e {
        case .transport: self = .fetch
        case .http: self = .http
        case .tooLarge: self = .tooLarge
        case .secret: self = .secret
        }
    }
}

/// One pass of one subscription: conditional fetch, parse, filters, hashes, then only what changed
/// travels to the target, field by field; the feed's validators are stored only once the target
/// has everything, so a failed pass is simply redone.
///
/// The pass runs over three seams: where the feed comes from (`FeedSource`), where it goes
/// (`CalendarTarget`) and where its state lives (`ItemStateStore`). It never trusts a pass that
/// did not complete: a pass marks itself open and records the intent of every write before the
/// first is sent, and the next pass takes no shortcut and looks up every intent on the target
/// before deciding anything (see README, "One pass").
public struct SyncPass: Sendable {
    public var subscription: Subscription
    public var filters: FilterPipeline
    public var store: any ItemStateStore
    public var target: any CalendarTarget
    public var source: any FeedSource
    /// Writes (and copies fetched) per multiOp (and calendarMultiget) batch. A batch the target
    /// refuses as a whole is redone one write at a time.
    public var batchSize = 100
    /// Batches sent at once: the target reads one while it stores another and the engine writes
    /// the next (measured on the 10,000-event load: 2 at a time of 50 took about a quarter longer).
    public var batchesInFlight = 3
    /// Seconds to wait for another pass of the same subscription to end before giving up.
    public var lockWait = 0.0
    /// Asked between batches: true stops the pass there (a graceful shutdown). What was applied
    /// is committed; the validators are not stored, so the next pass picks up the rest.
    public var shouldStop: @Sendable () -> Bool = { false }

    public init(subscription: Subscription, filters: FilterPipeline, store: any ItemStateStore, target: any CalendarTarget,
                source: any FeedSource = FeedFetcher()) {
        self.subscription = subscription
        self.filters = filters
        self.store = store
        self.target = target
        self.source = source
    }

    /// Runs the pass. `dryRun` fetches and plans but writes nothing (target or status).
    /// `reconcile` compares every target item with the feed, whatever the hashes say, catching
    /// edits made on the target and entities the engine does not know.
    public func run(now: Date = Date(), dryRun: Bool = false, reconcile requested: Bool = false) async -> SyncReport {
        // One pass of a subscription at a time, across processes; a dry run writes nothing.
        var lease: (any PassLease)?
        if !dryRun {
            do { lease = try await store.lockPass(subscription.id, wait: lockWait) } catch {
                var report = SyncReport(subscription: subscription.id)
                report.error = "\(error)"
                report.errorKind = .busy
                return report
            }
        }
        let report = await pass(now: now, dryRun: dryRun, reconcile: requested)
        lease?.release()
        // The pass's feed, trees and batches are freed by now: the memory goes back to the system
        // instead of staying with this process until some later pass (a daemon runs many). That
        // takes 3-15 ms after a large pass, which the report need not wait for.
        Task.detached(priority: .background) { releaseFreeMemory() }
        return report
    }

    /// The feed's items after filters, with their hashes, in feed order.
    struct FilteredFeed {
        var items: [String: (item: ICalItem, hash: String)] = [:]
        var order: [String] = []
    }

    private func pass(now: Date, dryRun: Bool, reconcile requested: Bool) async -> SyncReport {
        var report = SyncReport(subscription: subscription.id)
        var state: FeedState
        let intents: [WriteIntent]
        do {
            state = try store.feed(subscription.id)
            intents = try store.intents(subscription.id)
        } catch {
            report.error = "cannot read the status store: \(error)"
            report.errorKind = .store
            return report
        }
        // After a pass that did not complete, no shortcut: the target may hold writes the status
        // store does not know about.
        let unfinished = state.passOpen != nil || !intents.isEmpty
        // A reconcile on demand, or when the subscription's reconcile interval has passed.
        let due = subscription.reconcileEvery.map { every in state.lastReconcile.map { now.timeIntervalSince($0) >= Double(every) } ?? true } ?? false
        let reconcile = requested || due
        report.reconciled = reconcile
        let previousAttempt = state.lastAttempt
        state.lastAttempt = now
        func fail(_ message: String, _ kind: PassErrorKind) -> SyncReport {
            report.error = message
            report.errorKind = kind
            if !dryRun {
                if kind == .interrupted {
                    // Not a failure of the feed: the pass is simply due again as it was.
                    state.lastAttempt = previousAttempt
                } else {
                    state.lastError = message
                    state.failures += 1
                }
                try? store.save(subscription.id, state)
            }
            return report
        }

        // 1. Conditional fetch. While a new body downloads, it is digested and its items scanned
        // (see 2.), and the item states are read from the status store (a 304 reads none).
        // `body` alone holds the feed, and lets it go once it is parsed.
        var body: [UInt8]
        let validators: (etag: String?, lastModified: String?)
        let digest = FeedDigest(scanning: filters.fingerprint != nil)
        let stored = StartedOnce { [store, id = subscription.id] in try store.items(id) }
        do {
            let conditional = !dryRun && !reconcile && !unfinished
            switch try await source.fetch(subscription, etag: conditional ? state.etag : nil, lastModified: conditional ? state.lastModified : nil,
                                          onBody: { digest.received($0); stored.start() }) {
            case .notModified:
                report.notModified = true
                if !dryRun { state.lastSuccess = now; state.lastError = nil; state.failures = 0; try? store.save(subscription.id, state) }
                return report
            case .body(let b, let etag, let lastModified):
                body = b
                validators = (etag, lastModified)
            }
        } catch {
            if case .http(_, _, _, let retry) = error { report.retryAfter = retry }
            return fail("\(error)", PassErrorKind(error))
        }
        let (bodyHash, scan) = digest.finish(body)
        if !dryRun, !reconcile, !unfinished, state.bodyHash == bodyHash, state.lastError == nil {
            report.notModified = true
            (state.etag, state.lastModified) = validators
            state.lastSuccess = now
            try? store.save(subscription.id, state)
            return report
        }

        // 2. Items whose bytes (with the rest of the calendar, under the same filters) are the
        // ones processed last time are settled without being parsed; only the others are parsed,
        // grouped, filtered and hashed. A scan that gives up, or a parse that does not find the
        // items the scan found, means the whole feed is parsed as before.
        let scanned = filters.fingerprint.flatMap { salt in scan.map { ($0, $0.digests(salt: salt)) } }
        var known: [String: ItemState]
        do { known = try await stored.value() } catch { return fail("cannot read the status store: \(error)", .store) }
        // The sources of the items not settled, recorded once they are processed.
        var sources: [String: String] = [:]
        var settled: Set<String> = []
        if let (s, digests) = scanned {
            for (item, digest) in zip(s.items, digests) {
                if !reconcile, !unfinished, let k = known[item.key], k.source == digest { settled.insert(item.key) } else { sources[item.key] = digest }
            }
        }
        func parse(_ bytes: [UInt8]) throws -> ItemSet { ItemGrouper.items(from: try ICalParser().parse(bytes)) }
        var set: ItemSet
        do {
            if let scan, !settled.isEmpty {
                let rest = Set(sources.keys)
                set = try parse(scan.subset(of: body, keeping: rest))
                if Set(set.items.map(\.key)) != rest { // item keys are unique, so the sets say it all
                    settled = []
                    sources = [:]
                    set = try parse(body)
                }
            } else {
                set = try parse(body)
            }
        } catch {
            return fail("the feed of \(subscription.id) (\(subscription.sourceHost)) cannot be read: \(error); the target was not touched", .parse)
        }
        body = []
        let feed = filter(set, now: now, &report)

        // 3. What the target holds that the status store may not know: a reconcile adopts every
        // entity, and the intents of an unfinished pass are looked up (present: compared with
        // the feed; absent: added again if the feed has them).
        if reconcile || !intents.isEmpty {
            do { try await resolve(&known, reconcile: reconcile, intents: intents, dryRun: dryRun) } catch let e as TargetClientError {
                return fail("\(e)", .target)
            } catch {
                return fail("cannot write the status store: \(error)", .store)
            }
        }

        // 4. Classify. An unchanged item whose bytes changed (a reordered or refolded export)
        // has its new source recorded, so that next time it is settled unparsed.
        var new: [String] = [], changed: [String] = [], resettled: [ItemState] = []
        report.unchanged = settled.count
        report.settledUnparsed = settled.count
        for key in feed.order {
            guard let k = known[key] else { new.append(key); continue }
            if k.hash == feed.items[key]!.hash, !reconcile {
                report.unchanged += 1
                if k.source != sources[key] { resettled.append(k) }
            } else {
                changed.append(key)
            }
        }
        // Usually every known item is settled or still in the feed, and the count says so.
        let present = settled.count + feed.order.count { known[$0] != nil }
        let gone = present == known.count ? [] : known.keys.filter { feed.items[$0] == nil && !settled.contains($0) }.sorted()
        let guardMessage = deletionGuard(gone: gone.count, known: known.count, feedIsEmpty: feed.items.isEmpty && settled.isEmpty)

        // 5. The plan: settles, then updates of the changed items against the target's copies,
        // adds, and deletions unless the guard stopped them.
        var plans: [PlannedWrite] = resettled.map { .settle($0) }
        do { plans += try await updates(of: changed, feed: feed, known: known, reconcile: reconcile, &report) } catch {
            return fail("\(error)", .target)
        }
        for key in new { plans.append(.add(key: key, calendar: feed.items[key]!.item.calendar(), hash: feed.items[key]!.hash)) }
        if guardMessage == nil, subscription.deletions == .mirror {
            for key in gone { plans.append(.delete(key: key, href: known[key]!.href)) }
        }

        if dryRun {
            for p in plans { report.plan += p.lines }
            report.error = guardMessage
            report.errorKind = guardMessage.map { _ in .guard }
            return report
        }

        // 6. Before the first write: the pass is marked open and every write's intent recorded,
        // in one transaction. Each batch's outcome later forgets its intents as it is committed.
        let intended = plans.compactMap(\.intent)
        if !intended.isEmpty {
            state.passOpen = state.passOpen ?? now
            do { try store.begin(subscription.id, state, intents: intended) } catch { return fail("cannot write the status store: \(error)", .store) }
        }
        if let failure = await apply(plans, sources: sources, &report) { return fail(failure.message, failure.kind) }

        // 7. Validators only once everything is applied; then the pass is complete.
        if let guardMessage { return fail(guardMessage, .guard) }
        if !report.failed.isEmpty {
            return fail("\(report.failed.count) item(s) failed and will be retried: " + report.failed.prefix(3).map { "\($0.key): \($0.reason)" }.joined(separator: "; "), .items)
        }
        (state.etag, state.lastModified) = validators
        state.bodyHash = bodyHash
        if reconcile { state.lastReconcile = now }
        state.lastSuccess = now
        state.lastError = nil
        state.failures = 0
        state.passOpen = nil
        try? store.save(subscription.id, state)
        return report
    }

    /// The parsed items after the filters (on every core: they are pure and per item), with
    /// their hashes; the dropped ones counted in the report.
    func filter(_ set: ItemSet, now: Date, _ report: inout SyncReport) -> FilteredFeed {
        let utcNow = ICalDateTime.utc(now)
        let hashing = filters.skipList
        let pipeline = filters
        let filtered = set.items.concurrentMap(state: { ItemHasher(skipping: hashing) }) { hasher, item -> (item: ICalItem, hash: String)? in
            guard case .kept(let kept, _) = pipeline.run(item, now: utcNow) else { return nil }
            return (kept, hasher.hash(kept))
        }
        var feed = FilteredFeed()
        for entry in filtered {
            guard let entry else { report.dropped += 1; continue }
            if feed.items[entry.item.key] == nil { feed.order.append(entry.item.key) }
            feed.items[entry.item.key] = entry
        }
        return feed
    }

    /// Brings `known` in line with what the target holds, from one listing of the collection:
    /// with `reconcile`, entities the engine does not know are adopted when their UID is an item
    /// key (and count as gone when the feed lacks it); each intent's item is set to what the
    /// target has (an entity with an unknown hash, so it is compared with the feed) or forgotten
    /// when the target has none. The resolved states are recorded, which forgets the intents.
    func resolve(_ known: inout [String: ItemState], reconcile: Bool, intents: [WriteIntent], dryRun: Bool) async throws {
        let listing: [EntityInfo]
        do { listing = try await target.list(collection: subscription.targetCollection) } catch {
            guard error.kind == .targetDoesNotExist else { throw error }
            listing = []
        }
        var byUID: [String: EntityInfo] = [:]
        for e in listing {
            if let uid = e.calendar?.components.first(where: { PropertyTypes.isItemComponent($0.name) })?.uid { byUID[uid] = e }
        }
        if reconcile {
            let knownHrefs = Set(known.values.map(\.href))
            for (uid, e) in byUID where !knownHrefs.contains(e.href) {
                known[uid] = ItemState(key: uid, hash: "", href: e.href, changeToken: e.changeToken)
            }
        }
        var put: [ItemState] = [], remove: [String] = []
        for intent in intents {
            if let e = byUID[intent.key] {
                let s = ItemState(key: intent.key, hash: "", href: e.href, changeToken: e.changeToken)
                known[intent.key] = s
                put.append(s)
            } else {
                known[intent.key] = nil
                remove.append(intent.key)
            }
        }
        if !dryRun { try store.commit(subscription.id, put: put, remove: remove) }
    }

    /// The guard's words when the deletions must not happen, or nil.
    func deletionGuard(gone: Int, known: Int, feedIsEmpty: Bool) -> String? {
        guard subscription.deletions == .mirror, gone > 0 else { return nil }
        if feedIsEmpty, !subscription.allowEmpty {
            return "the feed has no items, which would delete all \(gone) items of \(subscription.targetCollection); nothing was deleted (set guard.allow-empty: true in \(subscription.file) to allow it)"
        }
        if Double(gone) > subscription.maxDeleteFraction * Double(known) {
            return "the feed lost \(gone) of \(known) items, more than guard.max-delete-fraction (\(subscription.maxDeleteFraction)); nothing was deleted (raise guard.max-delete-fraction in \(subscription.file) to allow it)"
        }
        return nil
    }

    /// The writes that bring the target's copies of the changed items to the feed, fetched in
    /// batches, `batchesInFlight` at a time (the target reads one while the engine decodes and
    /// diffs the last), planned in the order of the feed. With trust-lastmod the copy last applied
    /// stands in for the target's while its LAST-MODIFIED there is the one recorded (the change
    /// token still guards the update: a target edited since is refetched and diffed again).
    func updates(of changed: [String], feed: FilteredFeed, known: [String: ItemState], reconcile: Bool,
                 _ report: inout SyncReport) async throws(TargetClientError) -> [PlannedWrite] {
        let skip = filters.skipList
        var plans: [PlannedWrite] = []
        var toFetch = changed
        if subscription.trustLastModified, !reconcile {
            let trusted = changed.filter { known[$0]?.content != nil && known[$0]?.lastModified != nil }
            let stamps = try await lastModified(of: trusted.map { known[$0]!.href })
            toFetch = []
            for key in changed {
                guard let k = known[key], let content = k.content, let lm = k.lastModified, stamps[k.href] == lm,
                      let doc = try? ICalParser().parse(content), let cal = doc.calendars.first else {
                    toFetch.append(key)
                    continue
                }
                plans.append(plan(key, feed.items[key]!, against: cal, href: k.href, token: k.changeToken, content: content, skip: skip, &report))
            }
        }
        report.copiesFetched = toFetch.count
        let fetchChunks = toFetch.chunks(of: batchSize)
        var copiesOf: [Int: [EntityInfo]] = [:]
        var fetchError: TargetClientError?
        let fetchHrefs = fetchChunks.map { $0.map { known[$0]!.href } }
        await inFlight(fetchHrefs, width: batchesInFlight, mayLaunch: { fetchError == nil }) { [target, collection = subscription.targetCollection] index, hrefs in
            do throws(TargetClientError) { return FetchedChunk(index: index, copies: try await target.multiget(collection: collection, hrefs: hrefs)) } catch {
                return FetchedChunk(index: index, error: error)
            }
        } take: { done in
            if let error = done.error { fetchError = fetchError ?? error } else { copiesOf[done.index] = done.copies }
        }
        if let fetchError { throw fetchError }
        for (index, chunk) in fetchChunks.enumerated() {
            let byHref = Dictionary(copiesOf[index, default: []].map { ($0.href, $0) }, uniquingKeysWith: { a, _ in a })
            for key in chunk {
                let source = feed.items[key]!
                if let copy = byHref[known[key]!.href], let cal = copy.calendar {
                    plans.append(plan(key, source, against: cal, href: copy.href, token: copy.changeToken, content: nil, skip: skip, &report))
                } else {
                    // Gone from the target (deleted there): add it again.
                    plans.append(.add(key: key, calendar: source.item.calendar(), hash: source.hash))
                }
            }
        }
        return plans
    }

    /// Executes the plan in multiOp batches, `batchesInFlight` at a time (the engine encodes the
    /// next while the target applies the last); each batch's outcome is committed as it arrives.
    /// A batch the target refuses is redone one write at a time, so one bad item never stops the
    /// others; a target that does not answer stops the pass after that batch. Returns why the
    /// pass must stop, if it must.
    func apply(_ plans: [PlannedWrite], sources: [String: String], _ report: inout SyncReport) async -> (message: String, kind: PassErrorKind)? {
        let skip = filters.skipList
        let batches = plans.chunks(of: batchSize)
        var stopped = false
        var storeError: String?
        var unreachable: String?
        var launched = 0
        let mayLaunch = {
            if storeError != nil || unreachable != nil { return false }
            if shouldStop() { stopped = true; return false }
            launched += 1
            return true
        }
        await inFlight(batches, width: batchesInFlight, mayLaunch: mayLaunch) { _, batch in await execute(batch, skip: skip) } take: { outcome in
            var done = outcome.done
            for i in done.indices { done[i].source = sources[done[i].key] }
            report.added += outcome.report.added
            report.updated += outcome.report.updated
            report.deleted += outcome.report.deleted
            report.failed += outcome.report.failed
            unreachable = unreachable ?? outcome.unreachable
            do { try store.commit(subscription.id, put: done, remove: outcome.removed) } catch {
                storeError = storeError ?? "cannot write the status store: \(error)"
            }
        }
        if let storeError { return (storeError, .store) }
        if let unreachable {
            let unsent = batches.dropFirst(launched).reduce(0) { $0 + $1.count { $0.intent != nil } }
            return ("\(unreachable); the pass stopped there (\(report.failed.count) write(s) without an answer, \(unsent) not sent), and the next pass checks and redoes them", .target)
        }
        if stopped {
            return ("\(subscription.id): the pass stopped between batches (shutting down); what was applied is recorded and the next pass does the rest", .interrupted)
        }
        return nil
    }

    /// The write that brings the target's copy (`calendar`, at `href` with `token`) to the feed's
    /// item: an update of the fields that differ, or, when none do, only a status record (with
    /// `content`, the applied text when it is already at hand).
    func plan(_ key: String, _ source: (item: ICalItem, hash: String), against calendar: ICalComponent, href: String, token: String,
              content: String?, skip: SkipList, _ report: inout SyncReport) -> PlannedWrite {
        let update = Differ.diff(source: source.item, target: Self.item(calendar, key: key), skip: skip)
        guard update.isEmpty else {
            return .update(key: key, href: href, token: token, update: update, source: source.item, hash: source.hash)
        }
        report.unchanged += 1
        return .settle(ItemState(key: key, hash: source.hash, href: href, changeToken: token, content: content ?? applied(source.item.calendar())))
    }

    /// Runs `work` on each element of `items` (with its index), at most `width` at a time, and
    /// hands each result to `take` as it arrives. Nothing more is launched once `mayLaunch` says no.
    private func inFlight<Item: Sendable, Output: Sendable>(_ items: [Item], width: Int, mayLaunch: () -> Bool,
                                                            _ work: @escaping @Sendable (Int, Item) async -> Output,
                                                            take: (Output) -> Void) async {
        await withTaskGroup(of: Output.self) { group in
            var next = 0
            func launch() {
                guard next < items.count, mayLaunch() else { return }
                let index = next, item = items[index]
                next += 1
                group.addTask { await work(index, item) }
            }
            for _ in 0..<max(1, width) { launch() }
            while let output = await group.next() {
                take(output)
                launch()
            }
        }
    }

    /// The target's copies of one batch of changed items, or why they could not be fetched.
    struct FetchedChunk: Sendable {
        var index: Int
        var copies: [EntityInfo] = []
        var error: TargetClientError?
    }

    /// What one batch did: its part of the report, the item states to record and the keys to forget.
    struct BatchOutcome: Sendable {
        var report: SyncReport
        var done: [ItemState]
        var removed: [String] = []
        /// Why the target gave no answer to a write of this batch (unreachable, timed out, a
        /// gateway's error): the pass stops launching batches.
        var unreachable: String?
    }

    /// Sends one batch as a multiOp; when the target refuses it as a whole, one write at a time.
    /// With trust-lastmod, the LAST-MODIFIED of what the batch leaves on the target is recorded
    /// with it (one listing request); a copy whose stamp cannot be read is fetched next time.
    func execute(_ batch: [PlannedWrite], skip: SkipList) async -> BatchOutcome {
        let writes = batch.filter { $0.intent != nil }
        var o = BatchOutcome(report: SyncReport(subscription: subscription.id), done: batch.compactMap { if case .settle(let s) = $0 { s } else { nil } })
        if !writes.isEmpty {
            do throws(TargetClientError) {
                let responses = try await target.multiOp(writes.map { $0.request(collection: subscription.targetCollection)! })
                guard responses.count == writes.count else { throw TargetClientError.malformed(endpoint: "multiOp", message: "\(responses.count) answers to \(writes.count) writes") }
                for (p, r) in zip(writes, responses) { record(p, r, &o.report, &o.done, &o.removed) }
            } catch where error.answerUnknown {
                // No answer: the writes may or may not have been applied. Their intents stay, and
                // the next pass looks them up; sending each again now would only wait as long.
                o.unreachable = "\(error)"
                o.report.failed += writes.map { ($0.key, "no answer from the target: \(error)") }
            } catch {
                for p in writes {
                    if let unreachable = o.unreachable {
                        o.report.failed.append((p.key, "not sent: \(unreachable)"))
                        continue
                    }
                    await single(p, skip: skip, &o)
                }
            }
        }
        if subscription.trustLastModified, !o.done.isEmpty {
            let stamps = (try? await lastModified(of: o.done.map(\.href))) ?? [:]
            for i in o.done.indices { o.done[i].lastModified = stamps[o.done[i].href] }
        }
        return o
    }

    /// The target's LAST-MODIFIED of each entity at `hrefs` that it has (a listing: one request
    /// per batch, no calendar data).
    func lastModified(of hrefs: [String]) async throws(TargetClientError) -> [String: String] {
        var stamps: [String: String] = [:]
        for chunk in hrefs.chunks(of: batchSize) {
            for e in try await target.multiget(collection: subscription.targetCollection, hrefs: chunk, allData: false) {
                if let stamp = e.calendar.map(TargetClient.lastModified) { stamps[e.href] = stamp }
            }
        }
        return stamps
    }

    /// Records a write's outcome from its multiOp response.
    func record(_ p: PlannedWrite, _ r: CalWSResponse, _ report: inout SyncReport, _ done: inout [ItemState], _ removed: inout [String]) {
        switch (p, r.body) {
        case (.add(let key, let calendar, let hash), .addItem(let href?, let token?)):
            report.added.append(key)
            done.append(ItemState(key: key, hash: hash, href: href, changeToken: token, content: applied(calendar)))
        case (.update(let key, let href, _, let update, let source, let hash), .updateItem(let token?)):
            report.updated.append((key, update.count))
            done.append(ItemState(key: key, hash: hash, href: href, changeToken: token, content: applied(source.calendar())))
        case (.delete(let key, _), .deleteItem):
            report.deleted.append(key)
            removed.append(key)
        default:
            report.failed.append((p.key, r.result.message ?? r.result.status.rawValue))
        }
    }

    /// One write on its own, with the recoveries the protocol allows: a stale change token is
    /// refetched, diffed and retried once; a UID the target already has is adopted.
    func single(_ p: PlannedWrite, skip: SkipList, _ o: inout BatchOutcome) async {
        do throws(TargetClientError) {
            switch p {
            case .add(let key, let calendar, let hash):
                let href: String, token: String, edits: Int?
                do {
                    (href, token) = try await target.addItem(collection: subscription.targetCollection, calendar: calendar)
                    edits = nil
                } catch {
                    // The target has this UID already (an earlier pass died before recording it, or
                    // someone added it): adopt that entity and bring it up to date.
                    guard case .uidConflict(let existing)? = error.kind else { throw error }
                    (token, edits) = try await bringUpToDate(href: existing, source: Self.item(calendar, key: key), key: key, skip: skip)
                    href = existing
                }
                if let edits { o.report.updated.append((key, edits)) } else { o.report.added.append(key) }
                o.done.append(ItemState(key: key, hash: hash, href: href, changeToken: token, content: applied(calendar)))
            case .update(let key, let href, let token, let update, let source, let hash):
                let newToken: String, edits: Int
                do {
                    newToken = try await target.updateItem(href: href, changeToken: token, update: update)
                    edits = update.count
                } catch {
                    // Changed on the target since it was read: refetch, diff again, retry once.
                    guard error.kind == .mismatchedChangeToken || error.kind == .targetDoesNotExist else { throw error }
                    (newToken, edits) = try await bringUpToDate(href: href, source: source, key: key, skip: skip)
                }
                o.report.updated.append((key, edits))
                o.done.append(ItemState(key: key, hash: hash, href: href, changeToken: newToken, content: applied(source.calendar())))
            case .delete(let key, let href):
                do {
                    try await target.deleteItem(href: href)
                } catch {
                    // Already gone is what was wanted.
                    guard error.kind == .targetDoesNotExist else { throw error }
                }
                o.report.deleted.append(key)
                o.removed.append(key)
            case .settle:
                break
            }
        } catch {
            o.report.failed.append((p.key, "\(error)"))
            if error.answerUnknown { o.unreachable = "\(error)" }
        }
    }

    /// Fetches the target's current copy, diffs the source against it and sends the update.
    func bringUpToDate(href: String, source: ICalItem, key: String, skip: SkipList) async throws(TargetClientError) -> (token: String, edits: Int) {
        let current = try await target.fetchItem(href: href)
        let update = Differ.diff(source: source, target: Self.item(current.calendar ?? ICalComponent(name: "VCALENDAR"), key: key), skip: skip)
        if update.isEmpty { return (current.changeToken, 0) }
        return (try await target.updateItem(href: href, changeToken: current.changeToken, update: update), update.count)
    }

    static func item(_ calendar: ICalComponent, key: String) -> ICalItem {
        let items = ItemGrouper.items(from: ICalDocument(calendars: [calendar])).items
        return items.first { $0.key == key } ?? items.first ?? ICalItem(key: key, uid: key, components: [])
    }

    /// The iCalendar text of what was applied, as the status store keeps it for trust-lastmod
    /// (nothing otherwise: it is needed only there).
    func applied(_ calendar: ICalComponent) -> String? {
        subscription.trustLastModified ? ICalWriter.string([calendar]) : nil
    }

}

/// One write the pass plans.
enum PlannedWrite: Sendable {
    case add(key: String, calendar: ICalComponent, hash: String)
    case update(key: String, href: String, token: String, update: ComponentUpdate, source: ICalItem, hash: String)
    case delete(key: String, href: String)
    /// The target already matches: only the status is recorded.
    case settle(ItemState)

    var key: String {
        switch self {
        case .add(let k, _, _), .update(let k, _, _, _, _, _), .delete(let k, _): k
        case .settle(let s): s.key
        }
    }

    /// The intent recorded before the write is sent (nil for a settle, which writes nothing).
    var intent: WriteIntent? {
        switch self {
        case .add(let key, _, _): WriteIntent(key: key, operation: .add, href: nil)
        case .update(let key, let href, _, _, _, _): WriteIntent(key: key, operation: .update, href: href)
        case .delete(let key, let href): WriteIntent(key: key, operation: .delete, href: href)
        case .settle: nil
        }
    }

    func request(collection: String) -> CalWSRequest? {
        switch self {
        case .add(_, let calendar, _): CalWSRequest(.addItem(href: collection, calendar: calendar))
        case .update(_, let href, let token, let update, _, _): CalWSRequest(.updateItem(href: href, changeToken: token, update: update))
        case .delete(_, let href): CalWSRequest(.deleteItem(href: href))
        case .settle: nil
        }
    }

    var lines: [String] {
        switch self {
        case .add(let key, _, _): ["+ add \(key)"]
        case .update(_, _, _, let update, _, _): ChangeSetPrinter.lines(update)
        case .delete(let key, _): ["- delete \(key)"]
        case .settle: []
        }
    }
}

extension ICalDateTime {
    /// The UTC date-time of a moment (the clock is read by callers, never by the pure modules).
    public static func utc(_ date: Date) -> ICalDateTime {
        let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        return ICalDateTime(year: c.year!, month: c.month!, day: c.day!, hour: c.hour!, minute: c.minute!, second: c.second!, isUTC: true)
    }
}

extension Array {
    /// The elements in consecutive runs of at most `size`.
    func chunks(of size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}

/// Gives the heap memory that is free back to the system (glibc keeps it for the process
/// otherwise, so a pass that once needed much would keep it resident).
public func releaseFreeMemory() {
    _ = mallocTrim(0)
}

/// glibc's malloc_trim(3), declared in <malloc.h>, which the Glibc module does not export; its C
/// signature is `int malloc_trim(size_t pad)`.
@_silgen_name("malloc_trim") private func mallocTrim(_ pad: Int) -> Int32

/// Work run at most once, in a task of its own, started by the first `start` or `value`: here,
/// the status store's read, started by the first bytes of a feed's body.
final class StartedOnce<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var task: Task<T, Error>?
    private let work: @Sendable () throws -> T

    init(_ work: @escaping @Sendable () throws -> T) {
        self.work = work
    }

    func start() {
        lock.withLock {
            if task == nil { task = Task.detached { [work] in try work() } }
        }
    }

    func value() async throws -> T {
        start()
        return try await lock.withLock { task! }.value
    }
}
