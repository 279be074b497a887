import CalendarModel
import CalWS
import Filters
import Foundation
import SyncCore

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
    /// Told how far the pass has come: the feed fetched, its items parsed, writes answered.
    public var onProgress: @Sendable (PassProgress) -> Void = { _ in }
    /// Gives the heap's free memory back to the system after the pass (`releaseFreeMemory`).
    /// A process that runs thousands of small passes a second (the crash simulation) turns it off:
    /// each trim walks the whole heap and, with many threads, costs far more than such a pass.
    public var releasesFreeMemory = true

    public init(
        subscription: Subscription, filters: FilterPipeline, store: any ItemStateStore, target: any CalendarTarget,
        source: any FeedSource = FeedFetcher()
    ) {
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
                if case .passRunning = error { report.errorKind = .busy } else { report.errorKind = .store }
                return report
            }
        }
        let report = await pass(now: now, dryRun: dryRun, reconcile: requested)
        if !dryRun { await reportFreshness(after: report) }
        lease?.release()
        // The pass's feed, trees and batches are freed by now: the memory goes back to the system
        // instead of staying with this process until some later pass (a daemon runs many). That
        // takes 3-15 ms after a large pass, which the report need not wait for.
        if releasesFreeMemory { Task.detached(priority: .background) { releaseFreeMemory() } }
        return report
    }

    /// After every pass (a 304 included), the target learns in one small request how fresh the
    /// collection's mirror is: the interval, the last success and attempt, the last error
    /// (Outboard's `reportFreshness`, PROTOCOL.md), so that its availability answers can say so.
    /// Not after a pass the target itself failed or another pass held: then there is nothing new
    /// to say, or no one to say it to. A target that does not know the extension is left alone.
    func reportFreshness(after report: SyncReport) async {
        if report.errorKind == .target || report.errorKind == .busy || report.errorKind == .interrupted { return }
        guard let state = try? store.feed(subscription.id) else { return }
        let freshness = CollectionFreshness(
            href: subscription.targetCollection, subscription: subscription.id,
            refreshInterval: subscription.interval(feedRefresh: state.feedRefresh),
            lastSuccess: state.lastSuccess.map(ICalDateTime.utc), lastAttempt: state.lastAttempt.map(ICalDateTime.utc),
            lastError: state.lastError.map { String($0.prefix(2000)) },
            timezone: subscription.collectionZone(feedZone: state.feedZone))
        do { try await target.reportFreshness(freshness) } catch {}
    }

    private func pass(now: Date, dryRun: Bool, reconcile requested: Bool) async -> SyncReport {
        var run: PassRun
        do { run = try PassRun(subscription, store: store, now: now, dryRun: dryRun, reconcile: requested) } catch {
            var report = SyncReport(subscription: subscription.id)
            report.error = "cannot read the status store: \(error)"
            report.errorKind = .store
            return report
        }
        // A pass numbers its requests (the target's fence, `CalendarTarget.fenced`) with the number
        // after the last one recorded, which the store holds before the pass's first write. A dry
        // run, which takes no lock, numbers nothing: it must not fence out a running pass.
        var numbered = self
        if !dryRun {
            numbered.target = target.fenced(by: PassStamp(writer: store.writer, number: run.state.passNumber))
        }
        return await numbered.steps(&run)
    }

    /// The pass's steps, from the look-up of writes in doubt to the commit of the validators.
    private func steps(_ run: inout PassRun) async -> SyncReport {
        let dryRun = run.dryRun
        // 0. Writes without an answer that may still land: when nothing else bars the shortcuts,
        // their keys are looked up first, and if the target holds for each what the store
        // recorded, nothing has landed and the pass takes its shortcuts (a 304 ends it).
        if !dryRun, run.onlyDoubtsBarShortcuts {
            do { run.doubtsHold = try await doubtsHold(run) } catch { return run.fail(error, store) }
        }
        // 1. The feed (nil: not modified, or the failure is recorded).
        guard var fetched = await fetch(&run) else { return run.report }
        onProgress(.fetched(bytes: fetched.body.count))
        // 2. Its items, parsed, filtered and hashed, beside what the engine knows of them; the
        // feed's bytes go once they are read (a pass of a large feed should not hold them twice).
        guard var read = await read(fetched, &run) else { return run.report }
        fetched.body = []
        onProgress(.parsed(items: read.feed.order.count + read.settled.count))

        // 3. What the target holds that the status store may not know (see `lookUp`).
        let believed = run.reconcile ? read.known : [:]
        do { try await lookUp(&read, &run) } catch { return run.fail(error, store) }

        // 4. The plan, from the planner (pure): what changed, the deletion guard, and the writes
        // against the target's copies of the changed items, fetched in batches.
        let planner = SyncPlanner(policy: policy(reconcile: run.reconcile), skip: filters.skipList)
        let classification = planner.classify(
            read.feed, known: read.known, settled: read.settled, sources: read.sources)
        run.report.settledUnparsed = read.settled.count
        let copies: [String: SyncPlanner.Copy]
        do { copies = try await self.copies(of: classification.changed, planner: planner, &run.report) } catch {
            return run.fail("\(error)", .target, store)
        }
        let plan = planner.plan(classification, copies: copies, applied: applied)
        run.report.unchanged = classification.unchanged + plan.matched
        if dryRun {
            run.report.plan = plan.writes.flatMap(\.lines)
            run.report.error = plan.guardMessage
            run.report.errorKind = plan.guardMessage.map { _ in .guard }
            return run.report
        }

        // The trace of this pass (`outboard explain`) replaces the last one: what the filters
        // dropped and what was compared and found equal now, each write's outcome with its batch.
        // A trace that cannot be written never stops a pass.
        try? store.startTrace(
            subscription.id, pass: run.now, items: read.filtered.dropped + matched(classification, plan, read.filtered))

        // 5. Before the first write: the pass is marked open and every write's intent recorded,
        // in one transaction. Each batch's outcome later forgets its intents as it is committed.
        let intended = plan.writes.compactMap(\.intent)
        if !intended.isEmpty {
            run.state.passOpen = run.state.passOpen ?? run.now
            do { try store.begin(subscription.id, run.state, intents: intended) } catch {
                return run.fail("cannot write the status store: \(error)", .store, store)
            }
        }
        // 6. The writes, in batches, each batch's outcome committed as it arrives.
        let failure = await apply(plan.writes, sources: read.sources, rules: read.filtered.rules, &run.report)
        if run.reconcile { run.report.repaired = Self.repairs(run.report, believed: believed, feed: read.feed) }
        if let failure { return run.fail(failure.message, failure.kind, store) }

        // 7. Validators only once everything is applied; then the pass is complete.
        if let guardMessage = plan.guardMessage { return run.fail(guardMessage, .guard, store) }
        if !run.report.failed.isEmpty {
            let some = run.report.failed.prefix(3).map { "\($0.key): \($0.reason)" }.joined(separator: "; ")
            return run.fail("\(run.report.failed.count) item(s) failed and will be retried: " + some, .items, store)
        }
        run.complete(validators: fetched.validators, bodyHash: fetched.bodyHash, store)
        return run.report
    }

    /// What the target holds that the status store may not know: a reconcile adopts every
    /// entity, and the intents of an unfinished pass (and the keys still in doubt) are looked up
    /// (present: compared with the feed; absent: added again if the feed has them).
    /// After a change of `identity` the stored keys are the other identity's: the target's
    /// entities are matched to the feed's items anew, as a reconcile does. Keyed by content, a
    /// pass that knows no item (a new subscription, a lost status store) does so too: the feed's
    /// UIDs need not be the target's, so adding by UID could add an entity twice.
    func lookUp(_ read: inout Read, _ run: inout PassRun) async throws {
        let rekey = read.known.keys.contains { !subscription.identity.made($0) }
        if rekey {
            run.report.diagnostics.append(
                "identity is now \(subscription.identity.rawValue): the entities of \(subscription.targetCollection) were matched to the feed's items again by listing the target"
            )
        }
        let adopt = rekey || (subscription.identity == .content && read.known.isEmpty)
        if let note = run.lookUpNote { run.report.diagnostics.append(note) }
        if run.reconcile || adopt || !run.intents.isEmpty || run.doubtsToResolve {
            try await resolve(&read.known, reconcile: run.reconcile || adopt, run: run)
        }
    }

    /// A feed's new body, digested and scanned as it arrived, with the item states read meanwhile.
    struct Fetched {
        var body: [UInt8]
        var validators: (etag: String?, lastModified: String?)
        var bodyHash: String
        var scan: FeedScan?
        var stored: StartedOnce<[String: ItemState]>
    }

    /// Whether unchanged items may be settled by their bytes (see `FeedScan`): not with filters
    /// that depend on the time, and not when items are keyed by content (the scan finds them by
    /// UID, which such a feed changes on every export).
    var settlesByBytes: Bool { filters.fingerprint != nil && subscription.identity == .uid }

    /// The conditional fetch. While a new body downloads, it is digested and its items scanned,
    /// and the item states are read from the status store (a 304 reads none). Nil when the feed
    /// has not changed (a 304, or the body applied last time: recorded as a success) or could not
    /// be fetched (recorded as a failure). After an unfinished pass nothing is conditional.
    func fetch(_ run: inout PassRun) async -> Fetched? {
        let digest = FeedDigest(scanning: settlesByBytes)
        let stored = StartedOnce { [store, id = subscription.id] in try store.items(id) }
        let conditional = !run.dryRun && !run.shortcutsBarred
        let body: [UInt8]
        let validators: (etag: String?, lastModified: String?)
        do {
            let answer = try await source.answer(
                subscription, etag: conditional ? run.state.etag : nil,
                lastModified: conditional ? run.state.lastModified : nil,
                onBody: {
                    digest.received($0)
                    stored.start()
                })
            run.report.fetchShared = answer.shared
            switch answer.result {
            case .notModified:
                run.unchanged(validators: nil, store)
                return nil
            case .body(let b, let etag, let lastModified):
                (body, validators) = (b, (etag, lastModified))
            }
        } catch {
            if case .http(_, _, _, let retry) = error { run.report.retryAfter = retry }
            _ = run.fail("\(error)", PassErrorKind(error), store)
            return nil
        }
        let (bodyHash, scan) = digest.finish(body)
        if conditional, run.state.bodyHash == bodyHash, run.state.lastError == nil {
            run.unchanged(validators: validators, store)
            return nil
        }
        return Fetched(body: body, validators: validators, bodyHash: bodyHash, scan: scan, stored: stored)
    }

    /// With `refresh: feed`: the interval the feed asks for, bounded, goes to the report (for the
    /// schedule) and the feed state. A malformed one is a diagnostic and the interval stays the
    /// one the feed asked for last (or `refresh`); a feed that asks for none gets `refresh`.
    func pace(_ calendarProperties: [ICalProperty], _ run: inout PassRun) {
        let reading = FeedRefresh.read(calendarProperties)
        if let seconds = reading.seconds {
            run.state.feedRefresh = subscription.bounded(seconds)
        } else if reading.problems.isEmpty {
            run.state.feedRefresh = nil
        }
        run.report.feedRefresh = run.state.feedRefresh
        let interval = Subscription.durationText(subscription.interval(feedRefresh: run.state.feedRefresh))
        run.report.diagnostics += reading.problems.map { "\($0); the refresh interval is \(interval)" }
    }

    /// The feed's items as the planner takes them, with what the engine knows.
    struct Read {
        var feed: SyncPlanner.Feed
        var known: [String: ItemState]
        /// Items recognized by their bytes, not parsed.
        var settled: Set<String>
        /// The source digests of the items parsed, recorded once they are processed.
        var sources: [String: String]
        /// What the filters did, for the pass's trace.
        var filtered: FilterTrace
    }

    /// Items whose bytes (with the rest of the calendar, under the same filters) are the ones
    /// processed last time are settled without being parsed; only the others are parsed, grouped,
    /// filtered and hashed. A scan that gives up, or a parse that does not find the items the scan
    /// found, means the whole feed is parsed. Nil when the feed or the store cannot be read
    /// (recorded as a failure).
    func read(_ fetched: Fetched, _ run: inout PassRun) async -> Read? {
        let known: [String: ItemState]
        do { known = try await fetched.stored.value() } catch {
            _ = run.fail("cannot read the status store: \(error)", .store, store)
            return nil
        }
        var sources: [String: String] = [:]
        var settled: Set<String> = []
        // What else an item's processing depends on goes into its source digest: the filters, and
        // the floating policy (an item zoned is not the item kept as written).
        let floatingSalt =
            subscription.floating == .zone ? Array("\nfloating: zone \(subscription.zone ?? "")\n".utf8) : []
        let scanned = filters.fingerprint.flatMap { salt in
            fetched.scan.map { ($0, $0.digests(salt: salt + floatingSalt)) }
        }
        if let (s, digests) = scanned {
            for (item, digest) in zip(s.items, digests) {
                if !run.shortcutsBarred, let k = known[item.key], k.source == digest {
                    settled.insert(item.key)
                } else {
                    sources[item.key] = digest
                }
            }
        }
        let parse = Self.items
        var set: ItemSet
        do {
            if let scan = fetched.scan, !settled.isEmpty {
                let rest = Set(sources.keys)
                set = try parse(scan.subset(of: fetched.body, keeping: rest))
                if Set(set.items.map(\.key)) != rest {  // item keys are unique, so the sets say it all
                    settled = []
                    sources = [:]
                    set = try parse(fetched.body)
                }
            } else {
                set = try parse(fetched.body)
            }
        } catch {
            _ = run.fail(
                "the feed of \(subscription.id) (\(subscription.sourceHost)) cannot be read: \(error); the target was not touched",
                .parse, store)
            return nil
        }
        // The copies left out: of the parsed items as grouped, of the settled ones as scanned.
        var duplicates = set.duplicates
        for item in fetched.scan?.items ?? [] where item.duplicates > 0 && settled.contains(item.key) {
            duplicates[item.key] = item.duplicates
        }
        run.report.duplicates = duplicates.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        if subscription.refreshFromFeed { pace(set.calendarProperties, &run) }
        run.state.feedZone = FloatingZoner.calendarZone(set.calendarProperties)
        let (feed, filtered) = filter(set, now: run.now, &run.report)
        return Read(feed: feed, known: known, settled: settled, sources: sources, filtered: filtered)
    }

    /// The writes of a reconcile that repaired the mirror rather than followed the feed, given
    /// what the store `believed` before the target was listed: an add of an item the store
    /// thought mirrored, an update of an item the feed did not change, a delete of an entity the
    /// engine did not know.
    static func repairs(_ r: SyncReport, believed: [String: ItemState], feed: SyncPlanner.Feed) -> [String] {
        var out = r.added.filter { believed[$0] != nil }
        out += r.updated.map(\.key).filter { key in believed[key].map { $0.hash == feed.items[key]?.hash } ?? false }
        out += r.deleted.filter { believed[$0] == nil }
        return out.sorted()
    }

    /// A feed's bytes parsed and grouped into items.
    static func items(_ bytes: [UInt8]) throws -> ItemSet { ItemGrouper.items(from: try ICalParser().parse(bytes)) }

    /// The parsed items as the planner takes them (`FeedFilter`).
    func filter(_ set: ItemSet, now: Date, _ report: inout SyncReport) -> (SyncPlanner.Feed, FilterTrace) {
        FeedFilter(subscription: subscription, filters: filters).run(set, now: now, &report)
    }

    /// Brings `known` in line with what the target holds, from one listing of the collection:
    /// with `reconcile`, states keyed under another identity are forgotten and entities the
    /// engine does not know are adopted under their item key (UID, or content key), as items
    /// with an unknown hash (so they are compared with the feed, and count as gone when the feed
    /// lacks them); each intent's item is set to what the target has or forgotten when the
    /// target has none, and its key stays in doubt for `WriteIntent.doubtWindow`; each key in
    /// doubt is looked up again the same way (unless the target's entity is the one recorded:
    /// same href, same change token). The resolved states are recorded, which forgets the
    /// intents; doubts whose time has passed are forgotten once they are looked up.
    func resolve(_ known: inout [String: ItemState], reconcile: Bool, run: PassRun) async throws {
        let listing = try await self.listing()
        let byKey = entitiesByKey(listing)
        var put: [ItemState] = []
        var remove: [String] = []
        if reconcile {
            let other = known.keys.filter { !subscription.identity.made($0) }
            for key in other { known[key] = nil }
            remove += other
            let knownHrefs = Set(known.values.map(\.href))
            for (key, e) in byKey where !knownHrefs.contains(e.href) {
                known[key] = ItemState(key: key, hash: "", href: e.href, changeToken: e.changeToken)
                // Recorded at once when it replaces a state of the other identity, so the entity
                // is never unknown to the store (the feed's new UIDs would add it twice).
                if !other.isEmpty { put.append(known[key]!) }
            }
        }
        let intended = Set(run.intents.map(\.key))
        for key in intended.union(run.doubts.keys).sorted() {
            if let e = byKey[key] {
                if !intended.contains(key), let k = known[key], k.href == e.href, k.changeToken == e.changeToken {
                    continue
                }
                let s = ItemState(key: key, hash: "", href: e.href, changeToken: e.changeToken)
                known[key] = s
                put.append(s)
            } else if intended.contains(key) || known[key] != nil {
                known[key] = nil
                remove.append(key)
            }
        }
        guard !run.dryRun else { return }
        // The doubts first: once the intents are forgotten, their keys must already be in doubt.
        try store.recordDoubts(
            subscription.id, keys: intended.sorted(), until: run.now.addingTimeInterval(WriteIntent.doubtWindow))
        try store.commit(subscription.id, put: put, remove: remove)
        try store.forgetDoubts(
            subscription.id, keys: run.doubts.filter { $0.value <= run.now && !intended.contains($0.key) }.map(\.key))
    }

    /// The target collection's entities (none when it does not exist yet); with their content
    /// when items are keyed by content, which a content key needs (a UID is in the listing).
    func listing() async throws(TargetClientError) -> [EntityInfo] {
        do {
            return try await target.list(
                collection: subscription.targetCollection, allData: subscription.identity == .content)
        } catch {
            guard error.kind == .targetDoesNotExist else { throw error }
            return []
        }
    }

    /// The listed entities by item key (UID, or content key).
    func entitiesByKey(_ listing: [EntityInfo]) -> [String: EntityInfo] {
        var byKey: [String: EntityInfo] = [:]
        for e in listing {
            guard let calendar = e.calendar,
                let item = ItemGrouper.items(from: ICalDocument(calendars: [calendar])).items.first, item.uid != nil
            else { continue }
            byKey[subscription.identity.key(of: item)] = e
        }
        return byKey
    }

    /// Whether the target holds, for every key in doubt, what the store recorded (the entity
    /// with its href and change token, or none for an item the store does not know). If so, the
    /// doubts whose time has passed are forgotten (this was their last look).
    func doubtsHold(_ run: PassRun) async throws -> Bool {
        let byKey = entitiesByKey(try await listing())
        let known = try store.items(subscription.id)
        for key in run.doubts.keys {
            switch (byKey[key], known[key]) {
            case (nil, nil): continue
            case (let e?, let k?) where e.href == k.href && e.changeToken == k.changeToken: continue
            default: return false
            }
        }
        try store.forgetDoubts(subscription.id, keys: run.doubts.filter { $0.value <= run.now }.map(\.key))
        return true
    }

    /// The subscription's settings as the planner reads them.
    func policy(reconcile: Bool) -> SyncPlanner.Policy {
        var p = SyncPlanner.Policy()
        p.mirrorDeletions = subscription.deletions == .mirror
        p.allowEmpty = subscription.allowEmpty
        p.maxDeleteFraction = subscription.maxDeleteFraction
        p.trustLastModified = subscription.trustLastModified
        p.reconcile = reconcile
        p.identity = subscription.identity
        p.collection = subscription.targetCollection
        p.file = subscription.file
        return p
    }

    /// The target's copies of the changed items, by key: with trust-lastmod the copy last applied
    /// where the target's LAST-MODIFIED is the one recorded (one listing request per batch), the
    /// others fetched in batches, `batchesInFlight` at a time (the target reads one while the
    /// engine decodes the last). A changed item the target no longer has gets no copy.
    func copies(of changed: [SyncPlanner.Changed], planner: SyncPlanner, _ report: inout SyncReport)
        async throws(TargetClientError) -> [String: SyncPlanner.Copy]
    {
        var copies: [String: SyncPlanner.Copy] = [:]
        var toFetch = changed
        let candidates = planner.trustCandidates(changed)
        if !candidates.isEmpty {
            let split = planner.trusted(changed, stamps: try await lastModified(of: candidates.map(\.known.href)))
            for (c, copy) in split.trusted { copies[c.known.key] = copy }
            toFetch = split.fetch
        }
        report.copiesFetched = toFetch.count
        let chunks = toFetch.chunks(of: batchSize)
        var fetchError: TargetClientError?
        await inFlight(chunks.map { $0.map(\.known.href) }, width: batchesInFlight, mayLaunch: { fetchError == nil }) {
            [target, collection = subscription.targetCollection] index, hrefs in
            do throws(TargetClientError) {
                return FetchedChunk(
                    index: index, copies: try await target.multiget(collection: collection, hrefs: hrefs))
            } catch {
                return FetchedChunk(index: index, error: error)
            }
        } take: { done in
            if let error = done.error {
                fetchError = fetchError ?? error
                return
            }
            let byHref = Dictionary(done.copies.map { ($0.href, $0) }, uniquingKeysWith: { a, _ in a })
            for c in chunks[done.index] {
                if let copy = byHref[c.known.href], let calendar = copy.calendar {
                    copies[c.known.key] = SyncPlanner.Copy(
                        href: copy.href, changeToken: copy.changeToken, calendar: calendar)
                }
            }
        }
        if let fetchError { throw fetchError }
        return copies
    }

    /// Executes the plan in multiOp batches, `batchesInFlight` at a time (the engine encodes the
    /// next while the target applies the last); each batch's outcome is committed as it arrives.
    /// A batch the target refuses is redone one write at a time, so one bad item never stops the
    /// others; a target that does not answer stops the pass after that batch. Returns why the
    /// pass must stop, if it must.
    func apply(
        _ plans: [PlannedWrite], sources: [String: String], rules: [String: [String]], _ report: inout SyncReport
    ) async -> (message: String, kind: PassErrorKind)? {
        let skip = filters.skipList
        let batches = plans.chunks(of: batchSize)
        var stopped = false
        var storeError: String?
        var unreachable: String?
        var launched = 0
        let mayLaunch = {
            if storeError != nil || unreachable != nil { return false }
            if shouldStop() {
                stopped = true
                return false
            }
            launched += 1
            return true
        }
        let total = plans.count { $0.intent != nil }
        var answered = 0
        await inFlight(batches, width: batchesInFlight, mayLaunch: mayLaunch) { _, batch in
            await execute(batch, skip: skip, rules: rules)
        } take: { outcome in
            var done = outcome.done
            for i in done.indices { done[i].source = sources[done[i].key] }
            report.added += outcome.report.added
            report.updated += outcome.report.updated
            report.deleted += outcome.report.deleted
            report.failed += outcome.report.failed
            unreachable = unreachable ?? outcome.unreachable
            do { try store.commit(subscription.id, put: done, remove: outcome.removed, trace: outcome.trace) } catch {
                storeError = storeError ?? "cannot write the status store: \(error)"
            }
            answered += outcome.writes
            if total > 0 { onProgress(.applied(done: answered, total: total)) }
        }
        if let storeError { return (storeError, .store) }
        if let unreachable {
            let unsent = batches.dropFirst(launched).reduce(0) { $0 + $1.count { $0.intent != nil } }
            return (
                "\(unreachable); the pass stopped there (\(report.failed.count) write(s) without an answer, \(unsent) not sent), and the next pass checks and redoes them",
                .target
            )
        }
        if stopped {
            return (
                "\(subscription.id): the pass stopped between batches (shutting down); what was applied is recorded and the next pass does the rest",
                .interrupted
            )
        }
        return nil
    }

    /// Runs `work` on each element of `items` (with its index), at most `width` at a time, and
    /// hands each result to `take` as it arrives. Nothing more is launched once `mayLaunch` says no.
    private func inFlight<Item: Sendable, Output: Sendable>(
        _ items: [Item], width: Int, mayLaunch: () -> Bool,
        _ work: @escaping @Sendable (Int, Item) async -> Output,
        take: (Output) -> Void
    ) async {
        await withTaskGroup(of: Output.self) { group in
            var next = 0
            func launch() {
                guard next < items.count, mayLaunch() else { return }
                let index = next
                let item = items[index]
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
        /// How many writes the batch sent.
        var writes = 0
        /// Why the target gave no answer to a write of this batch (unreachable, timed out, a
        /// gateway's error): the pass stops launching batches.
        var unreachable: String?
        /// The updates sent in place of the planned ones (after a refetch), by key.
        var sent: [String: ComponentUpdate] = [:]
        /// The trace rows of the batch's writes.
        var trace: [ItemTrace] = []
    }

    /// Sends one batch as a multiOp; when the target refuses it as a whole, one write at a time.
    /// With trust-lastmod, the LAST-MODIFIED of what the batch leaves on the target is recorded
    /// with it (one listing request); a copy whose stamp cannot be read is fetched next time.
    func execute(_ batch: [PlannedWrite], skip: SkipList, rules: [String: [String]]) async -> BatchOutcome {
        let writes = batch.filter { $0.intent != nil }
        var o = BatchOutcome(
            report: SyncReport(subscription: subscription.id),
            done: batch.compactMap { if case .settle(let s) = $0 { s } else { nil } })
        o.writes = writes.count
        if !writes.isEmpty {
            do throws(TargetClientError) {
                let responses = try await target.multiOp(
                    writes.map { $0.request(collection: subscription.targetCollection)! })
                guard responses.count == writes.count else {
                    throw TargetClientError.malformed(
                        endpoint: "multiOp", message: "\(responses.count) answers to \(writes.count) writes")
                }
                for (p, r) in zip(writes, responses) { record(p, r, &o.report, &o.done, &o.removed) }
            } catch  where error.answerUnknown {
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
        o.trace = trace(writes, o, rules: rules)
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
            for e in try await target.multiget(collection: subscription.targetCollection, hrefs: chunk, allData: false)
            {
                if let stamp = e.calendar.map(TargetClient.lastModified) { stamps[e.href] = stamp }
            }
        }
        return stamps
    }

    /// Records a write's outcome from its multiOp response.
    func record(
        _ p: PlannedWrite, _ r: CalWSResponse, _ report: inout SyncReport, _ done: inout [ItemState],
        _ removed: inout [String]
    ) {
        switch (p, r.body) {
        case (.add(let key, let calendar, let hash), .addItem(let href?, let token?)):
            report.added.append(key)
            done.append(ItemState(key: key, hash: hash, href: href, changeToken: token, content: applied(calendar)))
        case (.update(let key, let href, _, let update, let source, let hash), .updateItem(let token?)):
            report.updated.append((key, update.count))
            done.append(
                ItemState(key: key, hash: hash, href: href, changeToken: token, content: applied(source.calendar())))
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
                let href: String
                let token: String
                let edits: Int?
                do {
                    (href, token) = try await target.addItem(
                        collection: subscription.targetCollection, calendar: calendar)
                    edits = nil
                } catch {
                    // The target has this UID already (an earlier pass died before recording it, or
                    // someone added it): adopt that entity and bring it up to date.
                    guard case .uidConflict(let existing)? = error.kind else { throw error }
                    let sent: ComponentUpdate
                    (token, sent) = try await bringUpToDate(
                        href: existing, source: SyncPlanner.item(calendar, key: key), key: key, skip: skip)
                    href = existing
                    edits = sent.count
                    o.sent[key] = sent
                }
                if let edits { o.report.updated.append((key, edits)) } else { o.report.added.append(key) }
                o.done.append(
                    ItemState(key: key, hash: hash, href: href, changeToken: token, content: applied(calendar)))
            case .update(let key, let href, let token, let update, let source, let hash):
                let newToken: String
                let edits: Int
                do {
                    newToken = try await target.updateItem(href: href, changeToken: token, update: update)
                    edits = update.count
                } catch {
                    // Changed on the target since it was read: refetch, diff again, retry once.
                    guard error.kind == .mismatchedChangeToken || error.kind == .targetDoesNotExist else { throw error }
                    let sent: ComponentUpdate
                    (newToken, sent) = try await bringUpToDate(href: href, source: source, key: key, skip: skip)
                    edits = sent.count
                    o.sent[key] = sent
                }
                o.report.updated.append((key, edits))
                o.done.append(
                    ItemState(
                        key: key, hash: hash, href: href, changeToken: newToken, content: applied(source.calendar())))
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

    /// Fetches the target's current copy, diffs the source against it and sends the update (none
    /// when it is empty).
    func bringUpToDate(href: String, source: ICalItem, key: String, skip: SkipList) async throws(TargetClientError) -> (
        token: String, update: ComponentUpdate
    ) {
        let current = try await target.fetchItem(href: href)
        let update = Differ.diff(
            source: source, target: SyncPlanner.item(current.calendar ?? ICalComponent(name: "VCALENDAR"), key: key),
            skip: skip)
        if update.isEmpty { return (current.changeToken, update) }
        return (try await target.updateItem(href: href, changeToken: current.changeToken, update: update), update)
    }

    /// The iCalendar text of what was applied, as the status store keeps it for trust-lastmod
    /// (nothing otherwise: it is needed only there).
    func applied(_ calendar: ICalComponent) -> String? {
        subscription.trustLastModified ? ICalWriter.string([calendar]) : nil
    }

}

extension PlannedWrite {
    /// The intent recorded before the write is sent (nil for a settle, which writes nothing).
    var intent: WriteIntent? {
        switch self {
        case .add(let key, _, _): WriteIntent(key: key, operation: .add, href: nil)
        case .update(let key, let href, _, _, _, _): WriteIntent(key: key, operation: .update, href: href)
        case .delete(let key, let href): WriteIntent(key: key, operation: .delete, href: href)
        case .settle: nil
        }
    }

    /// The CalWS request that carries the write (nil for a settle).
    func request(collection: String) -> CalWSRequest? {
        switch self {
        case .add(_, let calendar, _): CalWSRequest(.addItem(href: collection, calendar: calendar))
        case .update(_, let href, let token, let update, _, _):
            CalWSRequest(.updateItem(href: href, changeToken: token, update: update))
        case .delete(_, let href): CalWSRequest(.deleteItem(href: href))
        case .settle: nil
        }
    }
}
