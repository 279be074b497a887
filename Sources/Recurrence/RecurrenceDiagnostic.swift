/// Something in a series that was still expanded, but not as written: an unknown zone, a rule
/// that was refused or can never match, a cap that ended a query early.
public struct RecurrenceDiagnostic: Hashable, Sendable, CustomStringConvertible {
    /// What kind of problem it is, for code that reacts to it.
    public enum Kind: Hashable, Sendable {
        /// A TZID no zone source knows; its values were read as floating.
        case unknownZone
        /// An embedded VTIMEZONE that could not be read (missing offsets, bad rules).
        case invalidZone
        /// An RRULE refused as a whole (see the message for the part).
        case invalidRule
        /// More than one RRULE: their union was taken (RFC 5545 §3.8.5.3 says SHOULD NOT).
        case multipleRules
        /// A rule that can never produce an instance after DTSTART.
        case ruleNeverMatches
        /// A rule that ran out of its budget of empty periods before finding an instance.
        case ruleGaveUp
        /// The per-series instance cap ended a query.
        case instanceCap
        /// A component whose start could not be found or read.
        case missingStart
        /// A value of an unusable type or form (a negative DURATION, an EXRULE, …).
        case unusableValue
    }

    public var kind: Kind
    public var message: String
    /// The UID of the series, when it has one.
    public var uid: String?
    /// The RECURRENCE-ID (iCalendar form) of the override it is about, when it is about one.
    public var recurrenceID: String?
    /// The line of the component's BEGIN in its source (0 when unknown).
    public var line: Int

    public init(kind: Kind, message: String, uid: String? = nil, recurrenceID: String? = nil, line: Int = 0) {
        self.kind = kind
        self.message = message
        self.uid = uid
        self.recurrenceID = recurrenceID
        self.line = line
    }

    /// `line 12: message (uid=abc recurrence-id=20260105T090000)`.
    public var description: String {
        var s = line > 0 ? "line \(line): \(message)" : message
        var context: [String] = []
        if let uid { context.append("uid=\(uid)") }
        if let recurrenceID { context.append("recurrence-id=\(recurrenceID)") }
        if !context.isEmpty { s += " (" + context.joined(separator: " ") + ")" }
        return s
    }
}
