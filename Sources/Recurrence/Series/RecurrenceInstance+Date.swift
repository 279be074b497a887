#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension RecurrenceInstance {
    /// The start as a Foundation `Date`.
    public var startDate: Date { Date(timeIntervalSince1970: TimeInterval(start)) }
    /// The end as a Foundation `Date`.
    public var endDate: Date { Date(timeIntervalSince1970: TimeInterval(end)) }
    /// The RECURRENCE-ID instant as a Foundation `Date`.
    public var recurrenceIDDate: Date { Date(timeIntervalSince1970: TimeInterval(recurrenceID)) }
}
