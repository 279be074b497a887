/// Walks one RRULE's instances in wall-clock time, period by period (RFC 5545 §3.3.10: expand
/// and limit by the BYxxx parts, then BYSETPOS, then COUNT and UNTIL).
///
/// Instances come in ascending local time as (local seconds, UTC seconds). DTSTART is not
/// yielded (the recurrence set adds it itself) but counts as the first instance for COUNT
/// (RFC 5545 §3.8.5.3: "The DTSTART property value always counts as the first occurrence").
struct RuleIterator {
    /// How the rule ended, when it has.
    enum End: Equatable {
        /// COUNT or UNTIL reached.
        case exhausted
        /// Past the caller's limit (the window's end).
        case limit
        /// No instance in a whole 400-year Gregorian cycle of periods: the rule can never match.
        case neverMatches
        /// Too many empty periods in a row to keep scanning.
        case gaveUp(periods: Int)
    }

    /// UNTIL, in the terms it is compared in (RFC 5545 §3.3.10).
    enum Until {
        case none
        /// Floating or DATE UNTIL: compared with the local time (a DATE includes its whole day).
        case local(Int64)
        /// UTC UNTIL: compared with the instance's instant.
        case utc(Int64)
    }

    let rule: CompiledRule
    let zone: ZoneRules
    let dtstart: Int64
    let until: Until
    /// No period starting (in local time) after this is looked at.
    var localLimit: Int64 = .max
    /// Instances before this (local time) are counted for COUNT but not returned.
    var localFloor: Int64 = .min
    /// Empty periods (or jumps over days that cannot match) allowed in a row.
    var maxEmptyPeriods = 2_000_000

    private(set) var end: End?
    var buffer: [Int64] = []
    private var position = 0
    private var emitted = 1
    var period = 0
    private var emptyPeriods = 0
    private var lastProductiveDay: Int
    var days: DayMatcher
    // Where period 0 is, per frequency.
    private let baseYear: Int
    private let baseMonth: Int
    private let baseDay: Int
    let baseSeconds: Int64
    let step: Int64

    init(rule: CompiledRule, zone: ZoneRules, dtstart: Int64, until: Until) {
        self.rule = rule
        self.zone = zone
        self.dtstart = dtstart
        self.until = until
        let day = Int(Civil.floorDiv64(dtstart, 86_400))
        let (y, m, _) = Civil.date(fromDays: day)
        days = DayMatcher(rule: rule)
        baseYear = rule.frequency == .yearly && !rule.weekNos.isEmpty ? days.weekYear(of: day) : y
        baseMonth = y * 12 + m - 1
        switch rule.frequency {
        case .weekly: baseDay = day - Civil.floorMod(Civil.weekday(ofDays: day) - rule.weekStart, 7)
        default: baseDay = day
        }
        let unit: Int64 = rule.frequency == .hourly ? 3600 : rule.frequency == .minutely ? 60 : 1
        baseSeconds = Civil.floorDiv64(dtstart, unit) * unit
        step = unit * Int64(rule.interval)
        lastProductiveDay = day
        if rule.neverMatches { end = .neverMatches }
    }

    /// The next instance after DTSTART, or nil when the rule has ended (see `end`).
    mutating func next() -> (local: Int64, utc: Int64)? {
        while true {
            while position < buffer.count {
                let c = buffer[position]
                position += 1
                if c <= dtstart { continue }
                if c < localFloor {
                    if !passOver(c) { return nil }
                    continue
                }
                let utc = zone.utc(fromLocal: c)
                switch until {
                case .none: break
                case .local(let u): if c > u { return finish(.exhausted) }
                case .utc(let u): if utc > u { return finish(.exhausted) }
                }
                if let count = rule.count, emitted >= count { return finish(.exhausted) }
                emitted += 1
                return (c, utc)
            }
            if end != nil { return nil }
            fillNextPeriod()
        }
    }

    /// Counts an instance before the floor; false when it is past UNTIL or COUNT (the rule ends).
    private mutating func passOver(_ c: Int64) -> Bool {
        switch until {
        case .none: break
        case .local(let u):
            if c > u {
                _ = finish(.exhausted)
                return false
            }
        case .utc(let u):
            if zone.utc(fromLocal: c) > u {
                _ = finish(.exhausted)
                return false
            }
        }
        if let count = rule.count, emitted >= count {
            _ = finish(.exhausted)
            return false
        }
        emitted += 1
        return true
    }

    private mutating func finish(_ why: End) -> (local: Int64, utc: Int64)? {
        end = why
        buffer.removeAll(keepingCapacity: true)
        position = 0
        return nil
    }

    /// Moves to the first period that can hold an instance at or after `local`, without
    /// walking the periods before it, and counts nothing before it as returned. Jumps only when
    /// nothing has to be counted on the way (a rule without COUNT), or the count can be
    /// computed (a rule with the same number of instances in every period).
    mutating func skip(toLocal local: Int64) {
        localFloor = local
        guard rule.count == nil || rule.uniformCount != nil, position >= buffer.count, end == nil else { return }
        let target: Int
        let day = Int(Civil.floorDiv64(local, 86_400)) - 8  // BYWEEKNO years reach a week back
        let interval = rule.interval
        switch rule.frequency {
        case .yearly: target = Civil.floorDiv(Civil.date(fromDays: day).year - baseYear, interval)
        case .monthly:
            let (y, m, _) = Civil.date(fromDays: day)
            target = Civil.floorDiv(y * 12 + m - 1 - baseMonth, interval)
        case .weekly: target = Civil.floorDiv(day - baseDay, 7 * interval)
        case .daily: target = Civil.floorDiv(day - baseDay, interval)
        default: target = Int(Civil.floorDiv64(local - 86_400 - baseSeconds, step))
        }
        guard target > period else { return }
        if let perPeriod = rule.uniformCount, rule.count != nil {
            guard period == 0 else { return }
            // DTSTART, the instances after it in the first period, then whole periods.
            fillNextPeriod()
            let first = buffer.reduce(0) { $0 + ($1 > dtstart ? 1 : 0) }
            buffer.removeAll(keepingCapacity: true)
            position = 0
            guard end == nil, target > period else { return }
            emitted = 1 + first + (target - period) * perPeriod
        }
        period = target
        lastProductiveDay = periodStartDay(target)
        emptyPeriods = 0
    }

    private func periodStartDay(_ k: Int) -> Int {
        switch rule.frequency {
        case .yearly: return Civil.days(year: baseYear + k * rule.interval, month: 1, day: 1)
        case .monthly:
            let mi = baseMonth + k * rule.interval
            return Civil.days(year: Civil.floorDiv(mi, 12), month: Civil.floorMod(mi, 12) + 1, day: 1)
        case .weekly: return baseDay + 7 * k * rule.interval
        case .daily: return baseDay + k * rule.interval
        default: return Int(Civil.floorDiv64(baseSeconds + Int64(k) * step, 86_400))
        }
    }

    /// Fills `buffer` with the next period's instances (sorted, BYSETPOS applied).
    private mutating func fillNextPeriod() {
        buffer.removeAll(keepingCapacity: true)
        position = 0
        let startDay = periodStartDay(period)
        if Int64(startDay) * 86_400 > localLimit {
            end = .limit
            return
        }
        // The Gregorian calendar repeats every 400 years (146,097 days, a whole number of weeks),
        // so a rule with no instance over 400 years of periods has none at all.
        if startDay - lastProductiveDay > 146_097 * rule.interval + 7 {
            end = .neverMatches
            return
        }
        switch rule.frequency {
        case .yearly: fillYear(baseYear + period * rule.interval)
        case .monthly: fillMonth(baseMonth + period * rule.interval)
        case .weekly: fillDays(from: startDay, count: 7)
        case .daily: fillDays(from: startDay, count: 1)
        default: fillSubDaily()
        }
        if rule.frequency >= .daily { period += 1 }
        if !rule.setPositions.isEmpty && !buffer.isEmpty { applySetPositions() }
        if buffer.isEmpty {
            emptyPeriods += 1
            if emptyPeriods > maxEmptyPeriods { end = .gaveUp(periods: emptyPeriods) }
        } else {
            emptyPeriods = 0
            lastProductiveDay = startDay
        }
    }
}
