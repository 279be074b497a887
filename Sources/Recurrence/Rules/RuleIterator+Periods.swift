extension RuleIterator {
    /// A YEARLY period: the months BYMONTH names, or the whole year, or with BYWEEKNO the
    /// week-numbering year (which may start in December and end in January).
    mutating func fillYear(_ year: Int) {
        if !rule.weekNos.isEmpty {
            let first = days.weekOneStart(year)
            let last = days.weekOneStart(year + 1)
            days.weekYearFilter = year
            fillDays(from: first, count: last - first)
            days.weekYearFilter = nil
        } else if rule.monthMask != 0 {
            for month in 1...12 where rule.monthMask & (UInt16(1) << UInt16(month)) != 0 {
                fillDays(
                    from: Civil.days(year: year, month: month, day: 1),
                    count: Civil.daysInMonth(year: year, month: month))
            }
        } else {
            fillDays(from: Civil.days(year: year, month: 1, day: 1), count: Civil.daysInYear(year))
        }
    }

    /// A MONTHLY period (month index = year * 12 + month - 1).
    mutating func fillMonth(_ index: Int) {
        let year = Civil.floorDiv(index, 12)
        let month = Civil.floorMod(index, 12) + 1
        if rule.monthMask != 0 && rule.monthMask & (UInt16(1) << UInt16(month)) == 0 { return }
        fillDays(from: Civil.days(year: year, month: month, day: 1), count: Civil.daysInMonth(year: year, month: month))
    }

    /// Adds every time of every matching day in `[from, from + count)`.
    mutating func fillDays(from first: Int, count: Int) {
        let times = rule.times
        var day = first
        let end = first + count
        while day < end {
            if days.matches(day) {
                let base = Int64(day) * 86_400
                for t in times { buffer.append(base + Int64(t)) }
            }
            day += 1
        }
    }

    /// An HOURLY, MINUTELY or SECONDLY period: limited by the day filters and by BYHOUR
    /// (and BYMINUTE, BYSECOND), expanded by the finer parts. Jumps over days, hours and
    /// minutes that cannot match instead of walking their periods one by one.
    mutating func fillSubDaily() {
        let start = baseSeconds + Int64(period) * step
        let day = Int(Civil.floorDiv64(start, 86_400))
        let sod = Int(start - Int64(day) * 86_400)
        if rule.hasDayFilter && !days.matches(day) {
            jump(to: Int64(day + 1) * 86_400)
            return
        }
        let hour = sod / 3600
        if rule.hourMask != 0 && rule.hourMask & (UInt32(1) << UInt32(hour)) == 0 {
            jump(to: Int64(day) * 86_400 + Int64(hour + 1) * 3600)
            return
        }
        switch rule.frequency {
        case .hourly:
            let hourStart = start - Int64(sod % 3600)
            for m in rule.minutes { for s in rule.seconds { buffer.append(hourStart + Int64(m * 60 + s)) } }
        case .minutely:
            let minute = (sod / 60) % 60
            if rule.minuteMask != 0 && rule.minuteMask & (UInt64(1) << UInt64(minute)) == 0 {
                jump(to: start - Int64(sod % 60) + 60)
                return
            }
            let minuteStart = start - Int64(sod % 60)
            for s in rule.seconds { buffer.append(minuteStart + Int64(s)) }
        default:
            let minute = (sod / 60) % 60
            if rule.minuteMask != 0 && rule.minuteMask & (UInt64(1) << UInt64(minute)) == 0 {
                jump(to: start - Int64(sod % 60) + 60)
                return
            }
            let second = sod % 60
            if rule.secondMask == 0 || rule.secondMask & (UInt64(1) << UInt64(second)) != 0 { buffer.append(start) }
        }
        period += 1
    }

    /// Moves to the first period starting at or after `local`.
    private mutating func jump(to local: Int64) {
        let k = Int((local - baseSeconds + step - 1) / step)
        period = max(period + 1, k)
    }

    /// Keeps the BYSETPOS-th instances of the period (RFC 5545 §3.3.10), in order.
    mutating func applySetPositions() {
        let n = buffer.count
        var keep: [Int] = []
        for p in rule.setPositions {
            let i = p > 0 ? p - 1 : n + p
            if i >= 0 && i < n { keep.append(i) }
        }
        keep.sort()
        var out: [Int64] = []
        out.reserveCapacity(keep.count)
        var last = -1
        for i in keep where i != last {
            out.append(buffer[i])
            last = i
        }
        buffer = out
    }
}

/// Decides whether a day passes a rule's day-level parts (BYMONTH, BYWEEKNO, BYYEARDAY,
/// BYMONTHDAY, BYDAY), caching what it needs per year.
struct DayMatcher {
    let rule: CompiledRule
    /// With YEARLY + BYWEEKNO: only days of this week-numbering year match.
    var weekYearFilter: Int?
    private var cachedYear = Int.min
    private var jan1 = 0
    private var yearLength = 0
    private var weekStarts: (Int, Int, Int) = (0, 0, 0)

    init(rule: CompiledRule) {
        self.rule = rule
    }

    mutating func matches(_ day: Int) -> Bool {
        if !rule.hasDayFilter { return true }
        if rule.onlyPlainWeekdays { return rule.plainWeekdays & (UInt8(1) << UInt8(Civil.weekday(ofDays: day))) != 0 }
        let (y, m, d) = Civil.date(fromDays: day)
        if rule.monthMask != 0 && rule.monthMask & (UInt16(1) << UInt16(m)) == 0 { return false }
        let monthLength = Civil.daysInMonth(year: y, month: m)
        if rule.monthDayPositive != 0 || rule.monthDayNegative != 0 {
            let pos = rule.monthDayPositive & (UInt32(1) << UInt32(d)) != 0
            let neg = rule.monthDayNegative & (UInt32(1) << UInt32(monthLength - d + 1)) != 0
            if !pos && !neg { return false }
        }
        if y != cachedYear { loadYear(y) }
        let yday = day - jan1 + 1
        if !rule.yearDays.isEmpty {
            let negative = yday - yearLength - 1
            if !rule.yearDays.contains(where: { $0 == yday || $0 == negative }) { return false }
        }
        if !rule.weekNos.isEmpty && !weekMatches(day) { return false }
        if rule.hasWeekdayFilter {
            let wd = Civil.weekday(ofDays: day)
            if rule.plainWeekdays & (UInt8(1) << UInt8(wd)) != 0 { return true }
            let (nth, last) =
                rule.ordinalsInMonth
                ? ((d - 1) / 7 + 1, -((monthLength - d) / 7 + 1))
                : ((yday - 1) / 7 + 1, -((yearLength - yday) / 7 + 1))
            return rule.ordinalWeekdays.contains { $0.weekday == wd && ($0.ordinal == nth || $0.ordinal == last) }
        }
        return true
    }

    private mutating func loadYear(_ y: Int) {
        cachedYear = y
        jan1 = Civil.days(year: y, month: 1, day: 1)
        yearLength = Civil.daysInYear(y)
        if !rule.weekNos.isEmpty {
            weekStarts = (weekOneStart(y - 1), weekOneStart(y), weekOneStart(y + 1))
        }
    }

    private func weekMatches(_ day: Int) -> Bool {
        let (prev, this, next) = weekStarts
        let (weekYear, start, following): (Int, Int, Int)
        if day < this {
            (weekYear, start, following) = (cachedYear - 1, prev, this)
        } else if day >= next {
            (weekYear, start, following) = (cachedYear + 1, next, weekOneStart(cachedYear + 2))
        } else {
            (weekYear, start, following) = (cachedYear, this, next)
        }
        if let only = weekYearFilter, only != weekYear { return false }
        let week = (day - start) / 7 + 1
        let weeks = (following - start) / 7
        return rule.weekNos.contains { $0 == week || $0 == week - weeks - 1 }
    }

    /// The first day of week 1 of `year`: the week (starting on WKST) with at least four days in the year.
    func weekOneStart(_ year: Int) -> Int {
        let jan1 = Civil.days(year: year, month: 1, day: 1)
        let offset = Civil.floorMod(Civil.weekday(ofDays: jan1) - rule.weekStart, 7)
        return offset <= 3 ? jan1 - offset : jan1 + 7 - offset
    }

    /// The week-numbering year a day belongs to.
    func weekYear(of day: Int) -> Int {
        let y = Civil.date(fromDays: day).year
        if day < weekOneStart(y) { return y - 1 }
        if day >= weekOneStart(y + 1) { return y + 1 }
        return y
    }
}
