import CalendarModel

/// One instance of a series: when it starts and ends (UTC epoch seconds), which instance of
/// the series it is (its RECURRENCE-ID), and the properties of the component it comes from.
public struct RecurrenceInstance: Sendable, Equatable, CustomStringConvertible {
    /// Start, UTC epoch seconds.
    public let start: Int64
    /// End, UTC epoch seconds (equal to `start` for a zero-length instance).
    public let end: Int64
    /// The instance's identity: the UTC instant the series' rules give it (its RECURRENCE-ID).
    public let recurrenceID: Int64
    /// Whether a RECURRENCE-ID component of its own gave this instance.
    public let isOverride: Bool
    /// The component the properties come from (the master, an override, or the
    /// THISANDFUTURE override that reshaped it).
    public let source: InstanceSource
    /// The start as written, as wall-clock seconds since 1970-01-01T00:00:00 in its own zone
    /// (UTC's for a UTC value; none for a floating or DATE value, midnight for a DATE).
    public let localStart: Int64
    /// The end as it would be written in the start's zone, as wall-clock seconds.
    public let localEnd: Int64
    /// The RECURRENCE-ID as it would be written (in the master's form and zone), as wall-clock seconds.
    public let localRecurrenceID: Int64

    init(
        start: Int64, end: Int64, localStart: Int64, localEnd: Int64, recurrenceID: Int64, localRecurrenceID: Int64,
        isOverride: Bool, source: InstanceSource
    ) {
        self.start = start
        self.end = end
        self.localStart = localStart
        self.localEnd = localEnd
        self.recurrenceID = recurrenceID
        self.localRecurrenceID = localRecurrenceID
        self.isOverride = isOverride
        self.source = source
    }

    public var uid: String? { source.uid }
    public var componentName: String { source.componentName }
    public var summary: String? { source.summary }
    public var status: String? { source.status }
    public var transp: String? { source.transp }
    /// Whether the instance is a whole day (or days): its start is a DATE.
    public var isAllDay: Bool { source.form.isDate }
    /// Whether its STATUS is CANCELLED (a cancelled instance is still yielded).
    public var isCancelled: Bool { source.status == "CANCELLED" }
    /// The TZID its start is written in (nil for UTC, floating and DATE values).
    public var tzid: String? { source.form.tzid }
    /// The start as written (in its own zone, or as a DATE).
    /// Seconds east of UTC of the start as written (its zone's offset then; 0 for UTC values).
    public var startOffset: Int { Int(localStart - start) }
    /// Seconds east of UTC of the end as written.
    public var endOffset: Int { Int(localEnd - end) }
    public var writtenStart: WrittenTime { WrittenTime(local: localStart, form: source.form) }
    /// The end as it would be written in the start's zone (exclusive, as DTEND is).
    public var writtenEnd: WrittenTime { WrittenTime(local: localEnd, form: source.form) }
    /// The RECURRENCE-ID as it would be written (in the master's form and zone).
    public var writtenRecurrenceID: WrittenTime { WrittenTime(local: localRecurrenceID, form: source.recurrenceForm) }

    public static func == (a: RecurrenceInstance, b: RecurrenceInstance) -> Bool {
        a.start == b.start && a.end == b.end && a.recurrenceID == b.recurrenceID && a.isOverride == b.isOverride
            && a.source === b.source
    }

    public var description: String {
        "\(componentName) \(uid ?? "-") \(writtenStart)\(tzid.map { " [\($0)]" } ?? "") \(start)–\(end)"
            + (isOverride ? " override" : "") + (status.map { " \($0)" } ?? "")
    }
}
