/// A problem found in input that was still read: the line it was on, what was wrong, and the
/// component it belongs to when that is known.
public struct ICalDiagnostic: Hashable, Sendable, CustomStringConvertible {
    /// 1-based physical line number where the logical line started (0 when not tied to a line).
    public var line: Int
    public var message: String
    /// The enclosing component's name (e.g. `VEVENT`), when the problem was inside one.
    public var component: String?
    /// The enclosing item component's UID, when it has one.
    public var uid: String?
    /// The enclosing component's RECURRENCE-ID in iCalendar form, when it is an override.
    public var recurrenceID: String?

    public init(line: Int, message: String, component: String? = nil, uid: String? = nil, recurrenceID: String? = nil) {
        self.line = line
        self.message = message
        self.component = component
        self.uid = uid
        self.recurrenceID = recurrenceID
    }

    /// `line 12: message (VEVENT uid=abc)`.
    public var description: String {
        line > 0 ? "line \(line): \(messageWithContext)" : messageWithContext
    }

    /// `message (VEVENT uid=abc recurrence-id=20260105T090000)`: the message and the component it is about.
    public var messageWithContext: String {
        guard let component else { return message }
        var s = message + " (\(component)"
        if let uid { s += " uid=\(uid)" }
        if let recurrenceID { s += " recurrence-id=\(recurrenceID)" }
        return s + ")"
    }
}

/// Why input could not be read at all.
public enum ICalendarError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The input is not iCalendar (an HTML error page, JSON, an empty body).
    case notICalendar(String)
    /// A limit against hostile input was exceeded; names the limit, its value and the line.
    case limitExceeded(limit: String, value: Int, line: Int)

    public var description: String {
        switch self {
        case .notICalendar(let why):
            return "not iCalendar data: \(why)"
        case .limitExceeded(let limit, let value, let line):
            return "line \(line): input exceeds the \(limit) limit of \(value); refusing to read further"
        }
    }
}
