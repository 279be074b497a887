import CalendarModel

/// Turns an embedded VTIMEZONE into an offset history by expanding each STANDARD and DAYLIGHT
/// observance (DTSTART, TZOFFSETFROM, TZOFFSETTO, RRULE, RDATE) with the recurrence engine
/// itself (RFC 5545 §3.6.5).
enum VTimezoneCompiler {
    /// One onset of an observance: from this instant on, `offset` holds.
    private struct Onset {
        var instant: Int64
        var offset: Int
        var offsetBefore: Int
    }

    /// The zone's history over `[start, end)`, and what was wrong with it.
    static func history(of zone: ICalComponent, from start: Int64, to end: Int64) -> (ZoneHistory?, [String]) {
        var onsets: [Onset] = []
        var problems: [String] = []
        for observance in zone.components where observance.name == "STANDARD" || observance.name == "DAYLIGHT" {
            guard case .utcOffset(let from)? = observance.property("TZOFFSETFROM")?.value,
                case .utcOffset(let to)? = observance.property("TZOFFSETTO")?.value
            else {
                problems.append("a \(observance.name) without TZOFFSETFROM and TZOFFSETTO was left out")
                continue
            }
            guard let first = localSeconds(observance.property("DTSTART")?.value) else {
                problems.append("a \(observance.name) without a DTSTART was left out")
                continue
            }
            let before = Int(from.seconds)
            let after = Int(to.seconds)
            var locals = [first]
            for rdate in observance.properties(named: "RDATE") {
                locals += rdate.values.compactMap(localSeconds)
            }
            for rrule in observance.properties(named: "RRULE") {
                guard case .recur(let recur)? = rrule.value else { continue }
                do {
                    locals += try ruleOnsets(
                        of: RecurrenceRule(recur), dtstart: first, offsetBefore: before, from: start, to: end)
                } catch {
                    problems.append("\(observance.name): \(error)")
                }
            }
            onsets += locals.map { Onset(instant: $0 - Int64(before), offset: after, offsetBefore: before) }
        }
        guard !onsets.isEmpty else {
            problems.append("it has no usable STANDARD or DAYLIGHT observance")
            return (nil, problems)
        }
        onsets.sort { $0.instant < $1.instant }
        let transitions = onsets.map { ZoneHistory.Transition(instant: $0.instant, offset: $0.offset) }
        return (ZoneHistory(initialOffset: onsets[0].offsetBefore, transitions: transitions), problems)
    }

    /// The local onsets an observance's RRULE gives between `start` and `end` (UNTIL is UTC
    /// in a VTIMEZONE, compared with the onset read in TZOFFSETFROM).
    private static func ruleOnsets(
        of rule: RecurrenceRule, dtstart: Int64, offsetBefore: Int,
        from start: Int64, to end: Int64
    ) -> [Int64] {
        let compiled = CompiledRule(rule, dtstart: dtstart, isDate: false)
        let zone = ZoneRules(identifier: "observance", fixedOffset: offsetBefore)
        var iterator = RuleIterator(rule: compiled, zone: zone, dtstart: dtstart, until: RuleIterator.Until(rule.until))
        iterator.localLimit = end + 86_400
        iterator.maxEmptyPeriods = 10_000
        // Start a year before the span, so the offset in force at its start is known.
        iterator.skip(toLocal: start - 400 * 86_400)
        var out: [Int64] = []
        while let next = iterator.next() { out.append(next.local) }
        return out
    }

    /// Wall-clock seconds of a DATE-TIME (or DATE, or PERIOD start) value.
    static func localSeconds(_ value: ICalValue?) -> Int64? {
        switch value {
        case .dateTime(let dt)?: return Civil.seconds(dt)
        case .date(let d)?: return Civil.seconds(d)
        case .period(let p)?: return Civil.seconds(p.start)
        default: return nil
        }
    }
}

extension Civil {
    /// Local seconds of a DATE-TIME value's wall-clock time (its `Z`, if any, is not applied).
    static func seconds(_ dt: ICalDateTime) -> Int64 {
        seconds(
            year: Int(dt.date.year), month: Int(dt.date.month), day: Int(dt.date.day),
            hour: Int(dt.time.hour), minute: Int(dt.time.minute), second: Int(dt.time.second))
    }

    /// Local seconds of a DATE value's midnight.
    static func seconds(_ d: ICalDate) -> Int64 {
        seconds(year: Int(d.year), month: Int(d.month), day: Int(d.day))
    }
}

extension RuleIterator.Until {
    /// UNTIL as the RFC compares it: a UTC DATE-TIME with the instant, a floating one with the
    /// wall-clock time, a DATE with the wall-clock date (its whole day included).
    init(_ until: ICalRecur.Until?) {
        switch until {
        case nil: self = .none
        case .date(let d)?: self = .local(Civil.seconds(d) + 86_399)
        case .dateTime(let dt)?: self = dt.isUTC ? .utc(Civil.seconds(dt)) : .local(Civil.seconds(dt))
        }
    }
}
