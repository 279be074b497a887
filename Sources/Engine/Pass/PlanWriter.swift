import CalendarModel
import Foundation
import SyncCore

/// Sends a pass's plan: in batches of the target's size (single writes for a target without
/// batches), several in flight, each write's outcome decided by `WriteRecovery` and each batch's
/// outcome committed to the store as it arrives. A write without an answer stops the pass after
/// its batch; what was applied stays recorded.
struct PlanWriter {
    var reader: PassTarget
    var store: any ItemStateStore
    var subscription: String
    var skip: SkipList
    /// Whether item states keep what was applied, and their LAST-MODIFIED (trust-lastmod).
    var keepContent: Bool
    var shouldStop: @Sendable () -> Bool
    var onProgress: @Sendable (PassProgress) -> Void

    /// What one batch did: its part of the report, the item states to record and the keys to forget.
    struct BatchOutcome: Sendable {
        var report: SyncReport
        var done: [ItemState]
        var removed: [String] = []
        /// How many writes the batch sent.
        var writes = 0
        /// Why the target gave no answer to a write of this batch: the pass stops launching batches.
        var unreachable: String?
        /// The target's words when it refused the credentials: the pass stops launching batches.
        var refusedCredentials: String?
        /// The updates sent in place of the planned ones (after a refetch), by key.
        var sent: [String: ComponentUpdate] = [:]
        /// The trace rows of the batch's writes.
        var trace: [ItemTrace] = []
    }

    /// Executes the plan; returns why the pass must stop, if it must.
    func apply(
        _ plans: [PlannedWrite], sources: [String: String], origins: [String: String], rules: [String: [String]],
        _ report: inout SyncReport
    ) async -> (message: String, kind: PassErrorKind)? {
        let batches = plans.chunks(of: reader.batchSize)
        var stopped = false
        var storeError: String?
        var unreachable: String?
        var refusedCredentials: String?
        var launched = 0
        let mayLaunch = {
            if storeError != nil || unreachable != nil || refusedCredentials != nil { return false }
            if shouldStop() {
                stopped = true
                return false
            }
            launched += 1
            return true
        }
        let total = plans.count { $0.intent != nil }
        var answered = 0
        let writer = self
        await inFlight(batches, width: reader.width, mayLaunch: mayLaunch) { _, batch in
            await writer.execute(batch, rules: rules)
        } take: { outcome in
            var done = outcome.done
            for i in done.indices {
                done[i].source = sources[done[i].key]
                done[i].origin = origins[done[i].key]
            }
            report.merge(outcome.report)
            unreachable = unreachable ?? outcome.unreachable
            refusedCredentials = refusedCredentials ?? outcome.refusedCredentials
            do { try store.commit(subscription, put: done, remove: outcome.removed, trace: outcome.trace) } catch {
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
        if let refusedCredentials {
            return (
                "\(subscription): the target refused the credentials (\(refusedCredentials)); check the target's token or target.auth",
                .target
            )
        }
        if stopped {
            return (
                "\(subscription): the pass stopped between batches (shutting down); what was applied is recorded and the next pass does the rest",
                .interrupted
            )
        }
        return nil
    }

    /// Sends one batch and takes each write's outcome. With trust-lastmod, the LAST-MODIFIED of
    /// what the batch leaves on the target is recorded with it (one listing request); a copy
    /// whose stamp cannot be read is fetched next time.
    func execute(_ batch: [PlannedWrite], rules: [String: [String]]) async -> BatchOutcome {
        let writes = batch.filter { $0.intent != nil }
        var o = BatchOutcome(
            report: SyncReport(subscription: subscription),
            done: batch.compactMap { if case .settle(let s) = $0 { s } else { nil } })
        o.writes = writes.count
        if !writes.isEmpty {
            let outcomes = await reader.target.write(
                writes.compactMap { $0.targetWrite(collection: reader.collection) })
            for (i, p) in writes.enumerated() {
                let outcome = i < outcomes.count ? outcomes[i] : .unknown("the target answered no write")
                await take(outcome, of: p, &o)
            }
        }
        o.trace = trace(writes, o, rules: rules)
        if keepContent, !o.done.isEmpty {
            let stamps = (try? await reader.lastModified(of: o.done.map(\.href))) ?? [:]
            for i in o.done.indices { o.done[i].lastModified = stamps[o.done[i].href] }
        }
        return o
    }

    /// Records one write's outcome, after the recovery `WriteRecovery` decides.
    func take(_ outcome: WriteOutcome, of p: PlannedWrite, _ o: inout BatchOutcome) async {
        if case .refused(let e) = outcome, e.reason == .unauthorized { o.refusedCredentials = e.message }
        var next = WriteRecovery.next(after: outcome, of: p, keepContent: keepContent)
        if case .bringUpToDate(let href) = next, let source = p.sourceItem {
            do throws(TargetError) {
                let (version, sent) = try await reader.bringUpToDate(href: href, source: source, key: p.key, skip: skip)
                o.sent[p.key] = sent
                next = WriteRecovery.next(
                    after: .applied(href: href, version: version), of: p, retried: true, keepContent: keepContent)
            } catch {
                next = error.answerUnknown ? .unanswered(error.message) : .fail(error.message)
            }
        }
        if case .deleteCurrent(let href) = next {
            do throws(TargetError) {
                let current = try await reader.target.entry(href: href)
                next = WriteRecovery.next(
                    after: await reader.target.write([.delete(href: href, version: current.version)]).first
                        ?? .unknown("the target answered no write"), of: p, retried: true, keepContent: keepContent)
            } catch {
                next =
                    error.reason == .notFound
                    ? .forget : error.answerUnknown ? .unanswered(error.message) : .fail(error.message)
            }
        }
        switch next {
        case .record(let state):
            if let sent = o.sent[p.key] {
                o.report.updated.append((p.key, sent.count))
            } else if case .update(_, _, _, let update, _, _) = p {
                o.report.updated.append((p.key, update.count))
            } else {
                o.report.added.append(p.key)
            }
            o.done.append(state)
        case .forget:
            o.report.deleted.append(p.key)
            o.removed.append(p.key)
        case .fail(let why):
            o.report.failed.append((p.key, why))
        case .unanswered(let why):
            o.report.failed.append((p.key, why.hasPrefix("not sent") ? why : "no answer from the target: \(why)"))
            o.unreachable = o.unreachable ?? why
        case .bringUpToDate, .deleteCurrent:
            o.report.failed.append((p.key, "nothing to bring up to date"))
        }
    }
}

extension SyncReport {
    /// Adds a batch's part of the report.
    mutating func merge(_ part: SyncReport) {
        added += part.added
        updated += part.updated
        deleted += part.deleted
        failed += part.failed
    }
}
