import CalendarModel
import Foundation

extension ICalDateTime {
    /// The UTC date-time of a moment (the clock is read by callers, never by the pure modules).
    public static func utc(_ date: Date) -> ICalDateTime {
        let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        return ICalDateTime(
            year: c.year!, month: c.month!, day: c.day!, hour: c.hour!, minute: c.minute!, second: c.second!,
            isUTC: true)
    }
}
