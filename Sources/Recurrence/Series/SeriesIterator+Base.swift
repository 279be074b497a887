extension SeriesIterator {
    /// The instant of the next base instance (DTSTART, a rule's, an RDATE), or nil when none is left.
    mutating func nextBaseInstant() -> Int64? {
        guard let m = master else { return nil }
        var best: Int64? = startPending ? m.start.utc : nil
        if rdateIndex < m.rdates.count { best = Swift.min(best ?? .max, m.rdates[rdateIndex].utc) }
        for i in rules.indices {
            if ruleHeads[i] == nil && !ruleDone[i] { fetchRuleHead(i) }
            if let h = ruleHeads[i] { best = Swift.min(best ?? .max, h.utc) }
        }
        return best
    }

    /// Pulls rule `i`'s next instance, dropping any that a DST gap moved onto an instant the
    /// rule already gave, and reporting a rule that ended without being able to match.
    private mutating func fetchRuleHead(_ i: Int) {
        while let n = rules[i].next() {
            if n.utc <= ruleLast[i] { continue }
            ruleLast[i] = n.utc
            ruleHeads[i] = n
            return
        }
        ruleDone[i] = true
        guard let m = master else { return }
        let text = m.rules[i].text
        switch rules[i].end {
        case .neverMatches?:
            noteRule(.ruleNeverMatches, "RRULE \(text) can never produce an instance after DTSTART; it was stopped")
        case .gaveUp(let periods)?:
            noteRule(.ruleGaveUp, "RRULE \(text) found no instance in \(periods) periods in a row; it was stopped")
        default: break
        }
    }

    private mutating func noteRule(_ kind: RecurrenceDiagnostic.Kind, _ message: String) {
        diagnostics.append(
            RecurrenceDiagnostic(kind: kind, message: message, uid: uid, line: master?.source.component.line ?? 0))
    }

    /// Takes the earliest base instance and, unless excluded or overridden, files it (moved by
    /// a THISANDFUTURE override if one applies) among the instances ready to be yielded.
    mutating func takeBase() {
        guard let m = master else { return }
        var utc = Int64.max
        var local: Int64 = 0
        var explicitEnd: Int64?
        var from = -2  // -1 DTSTART, -2 RDATE, else a rule
        if rdateIndex < m.rdates.count {
            let r = m.rdates[rdateIndex]
            (utc, local, explicitEnd) = (r.utc, r.local, r.end)
        }
        if startPending && m.start.utc < utc { (utc, local, explicitEnd, from) = (m.start.utc, m.start.local, nil, -1) }
        for i in rules.indices {
            if let h = ruleHeads[i], h.utc < utc { (utc, local, explicitEnd, from) = (h.utc, h.local, nil, i) }
        }
        switch from {
        case -2: rdateIndex += 1
        case -1: startPending = false
        default: ruleHeads[from] = nil
        }
        if utc == lastBase { return }
        lastBase = utc
        file(utc: utc, local: local, explicitEnd: explicitEnd, m)
    }

    private mutating func file(utc: Int64, local: Int64, explicitEnd: Int64?, _ m: MasterPlan) {
        if !m.excludedInstants.isEmpty && m.excludedInstants.contains(utc) { return }
        if !m.excludedDays.isEmpty && m.excludedDays.contains(Int(Civil.floorDiv64(local, 86_400))) { return }
        if !m.overridden.isEmpty && m.overridden.contains(utc) { return }
        while futureIndex < m.futures.count && m.futures[futureIndex].recurrenceID < utc { futureIndex += 1 }
        let instance: RecurrenceInstance
        if futureIndex > 0 {
            let f = m.futures[futureIndex - 1]
            let start = utc + f.shift
            instance = RecurrenceInstance(
                start: start, end: start + f.length, localStart: f.zone.local(fromUTC: start),
                localEnd: f.zone.local(fromUTC: start + f.length), recurrenceID: utc, localRecurrenceID: local,
                recurrenceForm: m.source.form, isOverride: false, source: f.source)
        } else {
            let end: (utc: Int64, local: Int64)
            if let e = explicitEnd {
                end = (e, m.zone.local(fromUTC: e))
            } else {
                end = m.duration.end(local: local, utc: utc, zone: m.zone)
            }
            instance = RecurrenceInstance(
                start: utc, end: end.utc, localStart: local, localEnd: end.local, recurrenceID: utc,
                localRecurrenceID: local, recurrenceForm: m.source.form, isOverride: false, source: m.source)
        }
        guard Self.overlaps(instance.start, instance.end, windowStart, windowEnd) else { return }
        insertPending(instance)
    }

    private mutating func insertPending(_ instance: RecurrenceInstance) {
        if pending.count == pendingHead || pending[pending.count - 1].start <= instance.start {
            pending.append(instance)
            return
        }
        var lo = pendingHead
        var hi = pending.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if pending[mid].start <= instance.start { lo = mid + 1 } else { hi = mid }
        }
        pending.insert(instance, at: lo)
    }
}
