import CalendarModel
import Filters
import Foundation
import SyncCore

/// One pass of one subscription: what changed at the source since its stored position (a
/// conditional fetch, or the changes since a token), parse, filters, hashes, then only what
/// changed travels to the target, field by field; the source's new position is stored only once
/// the target has everything, so a failed pass is simply redone.
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
    /// Writes (and copies fetched) per batch, as far as the target takes batches
    /// (`TargetCapabilities.batchLimit`).
    public var batchSize = 100
    /// Batches sent at once: the target reads one while it stores another and the engine writes
    /// the next (measured on the 10,000-event load: 2 at a time of 50 took about a quarter longer).
    public var batchesInFlight = 3
    /// Single writes sent at once to a target without batches.
    public var writesInFlight = 4
    /// Seconds to wait for another pass of the same subscription to end before giving up.
    public var lockWait = 0.0
    /// Asked between batches: true stops the pass there (a graceful shutdown). What was applied
    /// is committed; the source's position is not stored, so the next pass picks up the rest.
    public var shouldStop: @Sendable () -> Bool = { false }
    /// Told how far the pass has come: the feed fetched, its items parsed, writes answered.
    public var onProgress: @Sendable (PassProgress) -> Void = { _ in }
    /// Run in the background after the pass, once its feed, trees and batches are freed: gives
    /// the heap's free memory back to the system (the composition root sets glibc's trim), so a
    /// daemon does not keep what its largest pass needed. Nil for none (a process that runs
    /// thousands of small passes a second, such as the crash simulation, leaves it so: each trim
    /// walks the whole heap).
    public var releaseMemory: (@Sendable () -> Void)?

    public init(
        subscription: Subscription, filters: FilterPipeline, store: any ItemStateStore, target: any CalendarTarget,
        source: any FeedSource
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
        if let releaseMemory { Task.detached(priority: .background) { releaseMemory() } }
        return report
    }

    /// After every pass (a 304 included), the target learns in one small request how fresh the
    /// collection's mirror is: the interval, the last success and attempt, the last error
    /// (Outboard's `reportFreshness`, PROTOCOL.md), so that its availability answers can say so.
    /// Not after a pass the target itself failed or another pass held: then there is nothing new
    /// to say, or no one to say it to. A target that does not know the extension is left alone.
    func reportFreshness(after report: SyncReport) async {
        guard target.capabilities.freshnessReports else { return }
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
        if !dryRun, target.capabilities.fencing {
            numbered.target = target.fenced(by: PassStamp(writer: store.writer, number: run.state.passNumber))
        }
        return await numbered.steps(&run)
    }

    /// The target as this pass reads and writes it.
    var passTarget: PassTarget {
        let limit = max(1, target.capabilities.batchLimit)
        return PassTarget(
            target: target, collection: subscription.targetCollection, identity: subscription.identity,
            batchSize: min(batchSize, limit), fetchSize: batchSize,
            width: limit == 1 ? writesInFlight : batchesInFlight)
    }

    /// The pass's steps, from the look-up of writes in doubt to the commit of the validators.
    private func steps(_ run: inout PassRun) async -> SyncReport {
        let reader = passTarget
        // 0. Writes without an answer that may still land: when nothing else bars the shortcuts,
        // their keys are looked up first, and if the target holds for each what the store
        // recorded, nothing has landed and the pass takes its shortcuts (a 304 ends it).
        if !run.dryRun, run.onlyDoubtsBarShortcuts {
            do { run.doubtsHold = try await doubtsHold(run, reader) } catch { return run.fail(error, store) }
        }
        // 1. The feed (nil: not modified, or the failure is recorded).
        let feed = PassSource(subscription: subscription, filters: filters, store: store, source: source)
        guard var fetched = await feed.fetch(&run) else { return run.report }
        onProgress(.fetched(bytes: fetched.body.count))
        // 2. Its items, parsed, filtered and hashed, beside what the engine knows of them; the
        // feed's bytes go once they are read (a pass of a large feed should not hold them twice).
        guard var input = await feed.read(fetched, &run) else { return run.report }
        fetched.body = []
        onProgress(.parsed(items: input.feed.order.count + input.settled.count))

        // 3. What the target holds that the status store may not know (see `lookUp`).
        let believed = run.reconcile ? input.known : [:]
        do { try await lookUp(&input.known, &run, reader) } catch { return run.fail(error, store) }

        // 4. The plan, from the planner (pure): what changed, the deletion guard, and the writes
        // against the target's copies of the changed items, fetched in batches.
        let planner = SyncPlanner(policy: subscription.plannerPolicy(reconcile: run.reconcile), skip: filters.skipList)
        let classification = planner.classify(
            input.feed, known: input.known, settled: input.settled, sources: input.sources)
        run.report.settledUnparsed = input.settled.count
        let copies: [String: SyncPlanner.Copy]
        do {
            (copies, run.report.copiesFetched) = try await reader.copies(of: classification.changed, planner: planner)
        } catch { return run.fail("\(error)", .target, store) }
        let keepContent = subscription.trustLastModified
        let plan = planner.plan(classification, copies: copies) { keepContent ? ICalWriter.string([$0]) : nil }
        run.report.unchanged = classification.unchanged + plan.matched
        if run.dryRun {
            run.report.plan = plan.writes.flatMap(\.lines)
            run.report.error = plan.guardMessage
            run.report.errorKind = plan.guardMessage.map { _ in .guard }
            return run.report
        }

        // The trace of this pass (`outboard explain`) replaces the last one: what the filters
        // dropped and what was compared and found equal now, each write's outcome with its batch.
        // A trace that cannot be written never stops a pass.
        try? store.startTrace(
            subscription.id, pass: run.now,
            items: input.filtered.dropped + matched(classification, plan, input.filtered))

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
        let writer = PlanWriter(
            reader: reader, store: store, subscription: subscription.id, skip: filters.skipList,
            keepContent: keepContent, shouldStop: shouldStop, onProgress: onProgress)
        let failure = await writer.apply(
            plan.writes, sources: input.sources, origins: input.origins, rules: input.filtered.rules, &run.report)
        if run.reconcile {
            run.report.repaired = Reconciliation.repairs(run.report, believed: believed, feed: input.feed)
        }
        if let failure { return run.fail(failure.message, failure.kind, store) }

        // 7. Validators only once everything is applied; then the pass is complete.
        if let guardMessage = plan.guardMessage { return run.fail(guardMessage, .guard, store) }
        if !run.report.failed.isEmpty {
            let some = run.report.failed.prefix(3).map { "\($0.key): \($0.reason)" }.joined(separator: "; ")
            return run.fail("\(run.report.failed.count) item(s) failed and will be retried: " + some, .items, store)
        }
        run.complete(position: fetched.position, bodyHash: fetched.bodyHash, store)
        return run.report
    }

    /// What the target holds that the status store may not know: a reconcile adopts every
    /// entity, and the intents of an unfinished pass (and the keys still in doubt) are looked up
    /// (`Reconciliation`). After a change of `identity` the stored keys are the other identity's:
    /// the target's entities are matched to the feed's items anew, as a reconcile does. Keyed by
    /// content, a pass that knows no item (a new subscription, a lost status store) does so too:
    /// the feed's UIDs need not be the target's, so adding by UID could add an entity twice.
    func lookUp(_ known: inout [String: ItemState], _ run: inout PassRun, _ reader: PassTarget) async throws {
        let rekey = known.keys.contains { !subscription.identity.made($0) }
        if rekey {
            run.report.diagnostics.append(
                "identity is now \(subscription.identity.rawValue): the entities of \(subscription.targetCollection) were matched to the feed's items again by listing the target"
            )
        }
        let adopt = rekey || (subscription.identity == .content && known.isEmpty)
        if let note = run.lookUpNote { run.report.diagnostics.append(note) }
        guard run.reconcile || adopt || !run.intents.isEmpty || run.doubtsToResolve else { return }
        let resolved = Reconciliation.resolve(
            .init(
                known: known, listing: try await reader.listing(), intents: Set(run.intents.map(\.key)),
                doubts: run.doubts, reconcile: run.reconcile || adopt, identity: subscription.identity, now: run.now))
        known = resolved.known
        guard !run.dryRun else { return }
        // The doubts first: once the intents are forgotten, their keys must already be in doubt.
        try store.recordDoubts(
            subscription.id, keys: resolved.doubt, until: run.now.addingTimeInterval(WriteIntent.doubtWindow))
        try store.commit(subscription.id, put: resolved.put, remove: resolved.remove)
        try store.forgetDoubts(subscription.id, keys: resolved.forget)
    }

    /// Whether the target holds, for every key in doubt, what the store recorded
    /// (`Reconciliation.doubtsHold`). If so, the doubts whose time has passed are forgotten (this
    /// was their last look).
    func doubtsHold(_ run: PassRun, _ reader: PassTarget) async throws -> Bool {
        let listing = try await reader.listing()
        guard Reconciliation.doubtsHold(run.doubts.keys, listing: listing, known: try store.items(subscription.id))
        else { return false }
        try store.forgetDoubts(subscription.id, keys: run.doubts.filter { $0.value <= run.now }.map(\.key))
        return true
    }

}
