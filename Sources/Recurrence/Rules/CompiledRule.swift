/// A `RecurrenceRule` bound to its DTSTART and turned into masks and sorted lists, with the
/// RFC 5545 §3.3.10 defaults filled in from DTSTART (the day of month for YEARLY and MONTHLY,
/// the weekday for WEEKLY, and the time of day for coarser frequencies).
final class CompiledRule: Sendable {
    let frequency: RecurrenceRule.Frequency
    let interval: Int
    let count: Int?
    let weekStart: Int

    // Day-level filters; an empty mask or list means "no filter".
    let monthMask: UInt16
    let monthDayPositive: UInt32
    let monthDayNegative: UInt32
    let yearDays: [Int]
    let weekNos: [Int]
    let plainWeekdays: UInt8
    let ordinalWeekdays: [RecurrenceRule.WeekdayEntry]
    let hasDayFilter: Bool
    let hasWeekdayFilter: Bool
    /// Whether BYDAY ordinals count within the month (MONTHLY, or YEARLY with BYMONTH) or the year.
    let ordinalsInMonth: Bool

    // Time of day.
    /// For DAILY and coarser: every time of day of one instance, in seconds, sorted.
    let times: [Int]
    /// For finer frequencies: masks that limit, and sorted lists that expand.
    let hourMask: UInt32
    let minuteMask: UInt64
    let secondMask: UInt64
    let minutes: [Int]
    let seconds: [Int]

    let setPositions: [Int]
    /// The number of instances in every period when it is the same for all (no day filter but
    /// plain weekdays, no hour or minute limit, no BYSETPOS): the iterator may then jump ahead
    /// even under COUNT, computing how many instances it passed over.
    let uniformCount: Int?
    /// The only day filter is BYDAY without ordinals: a day matches by its weekday alone.
    let onlyPlainWeekdays: Bool

    /// Compiles a rule for a DTSTART given in local seconds; `isDate` drops every time part.
    init(_ rule: RecurrenceRule, dtstart: Int64, isDate: Bool) {
        let p = Civil.parts(ofSeconds: dtstart)
        let dtWeekday = Civil.weekday(ofDays: Int(Civil.floorDiv64(dtstart, 86_400)))
        var freq = rule.frequency
        var interval = rule.interval
        if isDate && freq < .daily {
            // Time parts mean nothing on a DATE (RFC 5545 §3.3.10); a sub-daily rule on dates is daily.
            freq = .daily
            interval = 1
        }
        frequency = freq
        self.interval = interval
        count = rule.count
        weekStart = rule.weekStart

        let (byMonth, byMonthDay, byDay) = Self.datePartsTakenFromDTSTART(
            rule, frequency: freq, month: p.month, day: p.day, weekday: dtWeekday)
        monthMask = byMonth.reduce(0) { $0 | UInt16(1) << UInt16($1) }
        monthDayPositive = byMonthDay.filter { $0 > 0 }.reduce(0) { $0 | UInt32(1) << UInt32($1) }
        monthDayNegative = byMonthDay.filter { $0 < 0 }.reduce(0) { $0 | UInt32(1) << UInt32(-$1) }
        yearDays = rule.byYearDay
        weekNos = rule.byWeekNo
        let ordinalsAllowed = freq == .monthly || freq == .yearly
        var plain: UInt8 = 0
        var ordinals: [RecurrenceRule.WeekdayEntry] = []
        for e in byDay {
            // Ordinals only mean something within a MONTHLY or YEARLY rule (RFC 5545 §3.3.10).
            if e.ordinal == 0 || !ordinalsAllowed { plain |= UInt8(1) << UInt8(e.weekday) } else { ordinals.append(e) }
        }
        plainWeekdays = plain
        ordinalWeekdays = ordinals
        hasWeekdayFilter = !byDay.isEmpty
        ordinalsInMonth = freq == .monthly || (freq == .yearly && !byMonth.isEmpty)
        hasDayFilter =
            monthMask != 0 || monthDayPositive != 0 || monthDayNegative != 0 || !yearDays.isEmpty
            || !weekNos.isEmpty || hasWeekdayFilter

        let (hours, mins, secs) = Self.timeParts(rule, isDate: isDate, hour: p.hour, minute: p.minute, second: p.second)
        var t: [Int] = []
        for h in hours { for m in mins { for s in secs where s < 60 { t.append(h * 3600 + m * 60 + s) } } }
        times = t
        hourMask = rule.byHour.reduce(0) { $0 | UInt32(1) << UInt32($1) }
        minuteMask = rule.byMinute.reduce(0) { $0 | UInt64(1) << UInt64($1) }
        secondMask = rule.bySecond.reduce(0) { $0 | UInt64(1) << UInt64($1) }
        minutes = freq == .hourly ? mins : []
        seconds = (freq == .hourly || freq == .minutely) ? secs.filter { $0 < 60 } : []
        setPositions = rule.bySetPos
        let onlyWeekdays =
            monthMask == 0 && monthDayPositive == 0 && monthDayNegative == 0 && yearDays.isEmpty
            && weekNos.isEmpty && ordinals.isEmpty
        let perDay: Int?
        switch freq {
        case .daily: perDay = hasDayFilter ? nil : t.count
        case .weekly: perDay = onlyWeekdays ? plain.nonzeroBitCount * t.count : nil
        case .hourly: perDay = !hasDayFilter && hourMask == 0 ? minutes.count * seconds.count : nil
        case .minutely: perDay = !hasDayFilter && hourMask == 0 && minuteMask == 0 ? seconds.count : nil
        case .secondly: perDay = !hasDayFilter && hourMask == 0 && minuteMask == 0 && secondMask == 0 ? 1 : nil
        default: perDay = nil
        }
        uniformCount = rule.bySetPos.isEmpty ? perDay : nil
        onlyPlainWeekdays = onlyWeekdays && plain != 0
    }

    /// BYMONTH, BYMONTHDAY and BYDAY with what the rule leaves out taken from DTSTART
    /// (RFC 5545 §3.3.10): the date parts a rule expands from.
    private static func datePartsTakenFromDTSTART(
        _ rule: RecurrenceRule, frequency: RecurrenceRule.Frequency, month: Int, day: Int, weekday: Int
    ) -> (byMonth: [Int], byMonthDay: [Int], byDay: [RecurrenceRule.WeekdayEntry]) {
        var byMonth = rule.byMonth
        var byMonthDay = rule.byMonthDay
        var byDay = rule.byDay
        if rule.byWeekNo.isEmpty && rule.byYearDay.isEmpty && rule.byMonthDay.isEmpty && rule.byDay.isEmpty {
            switch frequency {
            case .yearly:
                if byMonth.isEmpty { byMonth = [month] }
                byMonthDay = [day]
            case .monthly: byMonthDay = [day]
            case .weekly: byDay = [RecurrenceRule.WeekdayEntry(ordinal: 0, weekday: weekday)]
            default: break
            }
        } else if frequency == .yearly && byMonth.isEmpty && !byMonthDay.isEmpty && rule.byDay.isEmpty
            && rule.byWeekNo.isEmpty
            && rule.byYearDay.isEmpty
        {
            // "FREQ=YEARLY;BYMONTHDAY=29" names no month: it comes from DTSTART, as RFC 5545
            // §3.3.10 says of every part a rule leaves out (and as libical reads it).
            byMonth = [month]
        }
        if !rule.byWeekNo.isEmpty && rule.byYearDay.isEmpty && rule.byMonthDay.isEmpty && rule.byDay.isEmpty {
            // BYWEEKNO names weeks, not days: the day of the week comes from DTSTART, as libical
            // and CalendarServer read it (RFC 5545 takes what a rule leaves out from DTSTART).
            byDay = [RecurrenceRule.WeekdayEntry(ordinal: 0, weekday: weekday)]
        }
        return (byMonth, byMonthDay, byDay)
    }

    /// The hours, minutes and seconds an instance may have: the rule's, else DTSTART's (none on a DATE).
    private static func timeParts(_ rule: RecurrenceRule, isDate: Bool, hour: Int, minute: Int, second: Int)
        -> (hours: [Int], minutes: [Int], seconds: [Int])
    {
        guard !isDate else { return ([0], [0], [0]) }
        func sorted(_ values: [Int], _ fallback: Int) -> [Int] {
            values.isEmpty ? [fallback] : Array(Set(values)).sorted()
        }
        return (sorted(rule.byHour, hour), sorted(rule.byMinute, minute), sorted(rule.bySecond, second))
    }

    /// Whether the rule can be seen never to match any date: every BYMONTHDAY is past the end of
    /// every BYMONTH month (Feb 30, Apr 31), or BYYEARDAY/BYMONTH/BYMONTHDAY leave no day at all.
    var neverMatches: Bool {
        guard monthMask != 0, monthDayPositive != 0 || monthDayNegative != 0 else { return false }
        for month in 1...12 where monthMask & (UInt16(1) << UInt16(month)) != 0 {
            let longest = month == 2 ? 29 : Civil.daysInMonth(year: 2001, month: month)
            for d in 1...31 where d <= longest {
                if monthDayPositive & (UInt32(1) << UInt32(d)) != 0 { return false }
                if monthDayNegative & (UInt32(1) << UInt32(d)) != 0 { return false }
            }
        }
        return true
    }
}
