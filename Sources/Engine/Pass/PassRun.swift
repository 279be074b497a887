import Foundation

/// One pass's record as it goes: the feed state it started from and will store, its report, and
/// what it may take for granted. Its `fail`, `unchanged` and `complete` are the only ways a pass
/// ends, each recording what the next pass needs.
struct PassRun {
    let id: String
    let now: Date
    let dryRun: Bool
    /// Every target item is compared with the feed (on demand, or the reconcile interval passed).
    let reconcile: Bool
    /// Writes of an earlier pass whose outcome is not recorded.
    let intents: [WriteIntent]
    /// Keys whose unanswered writes may still land, with the time until which they are looked up.
    let doubts: [String: Date]
    /// The keys in doubt were looked up before the fetch and the target holds for each what the
    /// store recorded: nothing has landed, and the doubts bar no shortcut in this pass.
    var doubtsHold = false
    var state: FeedState
    var report: SyncReport
    private let previousAttempt: Date?

    init(_ subscription: Subscription, store: any ItemStateStore, now: Date, dryRun: Bool, reconcile requested: Bool)
        throws
    {
        id = subscription.id
        self.now = now
        self.dryRun = dryRun
        let stored = try store.feed(subscription.id)
        state = stored
        intents = try store.intents(subscription.id)
        doubts = try store.doubts(subscription.id)
        // Counted from the last reconcile; a subscription's first pass starts the clock (an initial
        // load adopts what the target already holds as it goes, and needs no listing first).
        let due =
            subscription.reconcileEvery.map { every in
                stored.lastReconcile.map { now.timeIntervalSince($0) >= Double(every) } ?? false
            } ?? false
        reconcile = requested || due
        report = SyncReport(subscription: subscription.id)
        report.reconciled = reconcile
        // Until the feed is read (and if it is not: a 304), its pace is the one it last asked for.
        if subscription.refreshFromFeed { report.feedRefresh = stored.feedRefresh }
        previousAttempt = state.lastAttempt
        state.lastAttempt = now
        state.passNumber = stored.passNumber + 1
        if subscription.reconcileEvery != nil, stored.lastReconcile == nil, !dryRun { state.lastReconcile = now }
    }

    /// After a pass that did not complete (the target may hold writes the status store does not
    /// know about), while writes without an answer may still land, and on a reconcile, no shortcut
    /// is taken: no conditional fetch, no equal-body end, no settling by bytes.
    var shortcutsBarred: Bool {
        reconcile || state.passOpen != nil || !intents.isEmpty || doubtsToResolve
    }

    /// Keys in doubt whose entities are not known to be as recorded: the pass resolves them.
    var doubtsToResolve: Bool { !doubts.isEmpty && !doubtsHold }

    /// Only keys in doubt would bar the shortcuts: worth looking them up before the fetch.
    var onlyDoubtsBarShortcuts: Bool { doubtsToResolve && !reconcile && state.passOpen == nil && intents.isEmpty }

    /// What the report says when the pass looks up the writes of an unfinished pass (its intents,
    /// and the keys still in doubt), and until when passes will look again; nil when there are none.
    var lookUpNote: String? {
        guard !intents.isEmpty || !doubts.isEmpty else { return nil }
        let count = Set(intents.map(\.key)).union(doubts.keys).count
        let until = max(
            doubts.values.max() ?? .distantPast,
            intents.isEmpty ? .distantPast : now.addingTimeInterval(WriteIntent.doubtWindow))
        let head = "\(count) item(s) written by an unfinished pass were looked up on the target"
        guard until > now else { return head + " a last time" }
        return head
            + "; a write without an answer may still land, so passes look again (and take no shortcut) until \(until.formatted(.iso8601))"
    }

    /// Ends the pass as failed by what a look-up on the target or the status store threw.
    mutating func fail(_ error: any Error, _ store: any ItemStateStore) -> SyncReport {
        if let e = error as? TargetError { return fail("\(e)", .target, store) }
        return fail("cannot read or write the status store: \(error)", .store, store)
    }

    /// Ends the pass as failed, recording why (an interrupted pass is simply due again as it was).
    mutating func fail(_ message: String, _ kind: PassErrorKind, _ store: any ItemStateStore) -> SyncReport {
        report.error = message
        report.errorKind = kind
        if !dryRun {
            if kind == .interrupted {
                state.lastAttempt = previousAttempt
            } else {
                state.lastError = message
                state.failures += 1
            }
            try? store.save(id, state)
        }
        return report
    }

    /// `fail`, for a step that has nothing to return.
    mutating func failed<T>(_ message: String, _ kind: PassErrorKind, _ store: any ItemStateStore) -> T? {
        _ = fail(message, kind, store)
        return nil
    }

    /// Ends the pass with nothing to do: a 304 (`position` nil) or the body applied last time.
    mutating func unchanged(position: FeedPosition?, _ store: any ItemStateStore) {
        report.notModified = true
        guard !dryRun else { return }
        if let position { state.position = position }
        state.lastSuccess = now
        state.lastError = nil
        state.failures = 0
        try? store.save(id, state)
    }

    /// Ends the pass as complete: everything applied, the source's position stored, the pass closed.
    mutating func complete(position: FeedPosition?, bodyHash: String?, _ store: any ItemStateStore) {
        state.position = position
        state.bodyHash = bodyHash
        if reconcile { state.lastReconcile = now }
        state.lastSuccess = now
        state.lastError = nil
        state.failures = 0
        state.passOpen = nil
        try? store.save(id, state)
    }
}
