import SyncCore

extension Subscription {
    /// The subscription's settings as the planner reads them.
    func plannerPolicy(reconcile: Bool) -> SyncPlanner.Policy {
        var p = SyncPlanner.Policy()
        p.mirrorDeletions = deletions == .mirror
        p.allowEmpty = allowEmpty
        p.maxDeleteFraction = maxDeleteFraction
        p.trustLastModified = trustLastModified
        p.reconcile = reconcile
        p.identity = identity
        p.collection = targetCollection
        p.file = file
        return p
    }
}
