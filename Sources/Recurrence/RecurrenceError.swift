/// Why a recurrence rule or a zone could not be used.
public enum RecurrenceError: Error, Hashable, Sendable, CustomStringConvertible {
    /// An RRULE (or a VTIMEZONE observance's RRULE) that breaks RFC 5545 §3.3.10; names the rule and the part.
    case invalidRule(rule: String, reason: String)

    public var description: String {
        switch self {
        case .invalidRule(let rule, let reason):
            return "RRULE \(rule) cannot be used: \(reason)"
        }
    }
}
