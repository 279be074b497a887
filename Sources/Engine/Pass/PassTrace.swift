import Filters
import Foundation
import SyncCore

/// What the filters did in a pass, for its trace (`outboard explain`): the rules that changed each
/// kept item (only items some rule changed are listed), and the items dropped. The pipeline
/// reports this on every run at no extra cost; keeping it is a dictionary entry per item touched.
struct FilterTrace: Sendable {
    var rules: [String: [String]] = [:]
    var dropped: [ItemTrace] = []

    mutating func take(_ result: FilterResult, key: String) {
        switch result {
        case .kept(_, let effects):
            if !effects.isEmpty { rules[key] = effects.map(\.description) }
        case .dropped(let filter, let rule, let line):
            dropped.append(
                ItemTrace(key: key, outcome: .dropped, rules: ["filter \(filter) rule \(rule) (line \(line)): dropped"])
            )
        }
    }
}

extension SyncPass {
    /// The trace rows of the changed items whose copy on the target already matched the feed
    /// (settled: nothing sent, their state recorded).
    func matched(_ c: SyncPlanner.Classification, _ plan: SyncPlanner.Plan, _ filtered: FilterTrace) -> [ItemTrace] {
        guard plan.matched > 0 else { return [] }
        let changed = Set(c.changed.map(\.feed.item.key))
        return plan.writes.compactMap { w in
            guard case .settle(let s) = w, changed.contains(s.key) else { return nil }
            return ItemTrace(key: s.key, outcome: .matched, rules: filtered.rules[s.key] ?? [])
        }
    }
}

extension PlanWriter {
    /// The trace rows of a batch's writes, from its outcome: what was sent (the update sent
    /// after a refetch in place of the planned one) and the target's answer.
    func trace(_ writes: [PlannedWrite], _ o: BatchOutcome, rules: [String: [String]]) -> [ItemTrace] {
        let failed = Dictionary(o.report.failed.map { ($0.key, $0.reason) }, uniquingKeysWith: { a, _ in a })
        let updated = Set(o.report.updated.map(\.key))
        return writes.map { w in
            var t = ItemTrace(key: w.key, outcome: .failed, rules: rules[w.key] ?? [], answer: failed[w.key])
            let planned: ComponentUpdate? = if case .update(_, _, _, let u, _, _) = w { u } else { nil }
            if let sent = o.sent[w.key] ?? planned { t.edits = ChangeSetPrinter.lines(sent) }
            guard t.answer == nil else { return t }
            t.answer = "ok"
            switch w {
            case .add: t.outcome = updated.contains(w.key) ? .updated : .added
            case .update: t.outcome = .updated
            case .delete: t.outcome = .deleted
            case .settle: t.outcome = .matched
            }
            return t
        }
    }
}
