extension SeriesIterator {
    /// The instant of the next base instance (DTSTART, a rule's, an RDATE), or nil when none is left.
    mutating func nextBaseInstant() -> Int64? {
        var best: Int64? = untakenStart?.utc
        if rdateIndex < rdates.count { best = Swift.min(best ?? .max, rdates[rdateIndex].utc) }
        for i in rules.indices {
            if rules[i].head == nil && !rules[i].isDone { fetchRuleHead(i) }
            if let h = rules[i].head { best = Swift.min(best ?? .max, h.utc) }
        }
        return best
    }

    /// Pulls rule `i`'s next instance, dropping any that a DST gap moved onto an instant the
    /// rule already gave, and reporting a rule that ended without being able to match.
    private mutating func fetchRuleHead(_ i: Int) {
        while let n = rules[i].iterator.next() {
            if n.utc <= rules[i].last { continue }
            rules[i].last = n.utc
            rules[i].head = n
            return
        }
        rules[i].isDone = true
        guard let m = master else { return }
        switch rules[i].iterator.end {
        case .neverMatches?:
            let text = m.rules[i].text
            noteRule(.ruleNeverMatches, "RRULE \(text) can never produce an instance after DTSTART; it was stopped")
        case .gaveUp(let periods)?:
            let text = m.rules[i].text
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
        if rdateIndex < rdates.count {
            let r = rdates[rdateIndex]
            (utc, local, explicitEnd) = (r.utc, r.local, r.end)
        }
        if let s = untakenStart, s.utc < utc { (utc, local, explicitEnd, from) = (s.utc, s.local, nil, -1) }
        for i in rules.indices {
            if let h = rules[i].head, h.utc < utc { (utc, local, explicitEnd, from) = (h.utc, h.local, nil, i) }
        }
        switch from {
        case -2: rdateIndex += 1
        case -1: untakenStart = nil
        default: rules[from].head = nil
        }
        if utc == lastBase { return }
        lastBase = utc
        file(utc: utc, local: local, explicitEnd: explicitEnd, m)
    }

    private mutating func file(utc: Int64, local: Int64, explicitEnd: Int64?, _ m: MasterPlan) {
        if !m.excludedInstants.isEmpty && m.excludedInstants.contains(utc) { return }
        if !m.excludedDays.isEmpty && m.excludedDays.contains(Int(Civil.floorDiv64(local, 86_400))) { return }
        if !m.overridden.isEmpty && m.overridden.contains(utc) { return }
        if !exclusions.isEmpty && excludedByRule(utc) { return }
        while futureIndex < m.futures.count && m.futures[futureIndex].recurrenceID < utc { futureIndex += 1 }
        let instance: Pending
        if futureIndex > 0 {
            let f = m.futures[futureIndex - 1]
            let start = f.zone.utc(fromLocal: local + f.shift)
            instance = Pending(
                start: start, end: start + f.length, localStart: f.zone.local(fromUTC: start),
                localEnd: f.zone.local(fromUTC: start + f.length), recurrenceID: utc, localRecurrenceID: local,
                future: futureIndex - 1)
        } else {
            let end: (utc: Int64, local: Int64)
            if let e = explicitEnd {
                end = (e, m.zone.local(fromUTC: e))
            } else {
                end = m.duration.end(local: local, utc: utc, zone: m.zone)
            }
            instance = Pending(
                start: utc, end: end.utc, localStart: local, localEnd: end.local, recurrenceID: utc,
                localRecurrenceID: local, future: -1)
        }
        guard Self.overlaps(instance.start, instance.end, windowStart, windowEnd) else { return }
        insertPending(instance)
    }

    /// Whether an EXRULE gives the instant `utc` (base instants come in ascending order, so each
    /// EXRULE's iterator only moves forward). DTSTART is an EXRULE's first instance, as it is an
    /// RRULE's (RFC 2445 §4.3.10 counts COUNT from it; libical does the same).
    private mutating func excludedByRule(_ utc: Int64) -> Bool {
        if utc == master?.start.utc { return true }
        var excluded = false
        for i in exclusions.indices {
            while !exclusions[i].isDone, (exclusions[i].head?.utc ?? .min) < utc {
                if let n = exclusions[i].iterator.next() {
                    exclusions[i].head = n
                } else {
                    exclusions[i].isDone = true
                }
            }
            if exclusions[i].head?.utc == utc { excluded = true }
        }
        return excluded
    }

    private mutating func insertPending(_ instance: Pending) {
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
