/// A calendar date (RFC 5545 §3.3.4).
public struct ICalDate: Hashable, Sendable, Comparable {
    public var year: Int16
    public var month: UInt8
    public var day: UInt8

    public init(year: Int, month: Int, day: Int) {
        self.year = Int16(truncatingIfNeeded: year)
        self.month = UInt8(truncatingIfNeeded: month)
        self.day = UInt8(truncatingIfNeeded: day)
    }

    public static func < (a: ICalDate, b: ICalDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }
}

/// A time of day, optionally UTC (RFC 5545 §3.3.12).
public struct ICalTime: Hashable, Sendable {
    public var hour: UInt8
    public var minute: UInt8
    public var second: UInt8
    public var isUTC: Bool

    public init(hour: Int, minute: Int, second: Int, isUTC: Bool) {
        self.hour = UInt8(truncatingIfNeeded: hour)
        self.minute = UInt8(truncatingIfNeeded: minute)
        self.second = UInt8(truncatingIfNeeded: second)
        self.isUTC = isUTC
    }
}

/// A date with a time of day (RFC 5545 §3.3.5): floating, UTC (`Z`), or local to the TZID
/// parameter of its property. The zone is not part of the value: it lives in the parameter.
public struct ICalDateTime: Hashable, Sendable, Comparable {
    public var date: ICalDate
    public var time: ICalTime

    public init(date: ICalDate, time: ICalTime) {
        self.date = date
        self.time = time
    }

    public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, isUTC: Bool) {
        self.date = ICalDate(year: year, month: month, day: day)
        self.time = ICalTime(hour: hour, minute: minute, second: second, isUTC: isUTC)
    }

    public var isUTC: Bool { time.isUTC }

    public static func < (a: ICalDateTime, b: ICalDateTime) -> Bool {
        (a.date.year, a.date.month, a.date.day, a.time.hour, a.time.minute, a.time.second)
            < (b.date.year, b.date.month, b.date.day, b.time.hour, b.time.minute, b.time.second)
    }
}

/// A UTC offset such as `-0500` or `+053000` (RFC 5545 §3.3.14).
public struct ICalUTCOffset: Hashable, Sendable {
    /// The offset in seconds east of UTC.
    public var seconds: Int32
    /// True for `-0000`, which RFC 5545 forbids but feeds send; kept so it round-trips.
    public var isNegativeZero: Bool

    public init(seconds: Int, isNegativeZero: Bool = false) {
        self.seconds = Int32(truncatingIfNeeded: seconds)
        self.isNegativeZero = isNegativeZero && seconds == 0
    }
}

/// A duration (RFC 5545 §3.3.6). Weeks and days are nominal, hours to seconds exact, so they are
/// kept apart; `P1W` and `P7D` compare equal through the canonical form, not here.
public struct ICalDuration: Hashable, Sendable {
    public var isNegative: Bool
    public var weeks: Int32
    public var days: Int32
    public var hours: Int32
    public var minutes: Int32
    public var seconds: Int32

    public init(
        isNegative: Bool = false, weeks: Int = 0, days: Int = 0, hours: Int = 0, minutes: Int = 0, seconds: Int = 0
    ) {
        self.isNegative = isNegative
        self.weeks = Int32(truncatingIfNeeded: weeks)
        self.days = Int32(truncatingIfNeeded: days)
        self.hours = Int32(truncatingIfNeeded: hours)
        self.minutes = Int32(truncatingIfNeeded: minutes)
        self.seconds = Int32(truncatingIfNeeded: seconds)
    }

    /// Nominal days (weeks counted as seven days).
    public var nominalDays: Int { Int(weeks) * 7 + Int(days) }
    /// Exact seconds of the time part.
    public var exactSeconds: Int { Int(hours) * 3600 + Int(minutes) * 60 + Int(seconds) }
}

/// A period of time (RFC 5545 §3.3.9): a start and either an end or a duration.
public struct ICalPeriod: Hashable, Sendable {
    public enum End: Hashable, Sendable {
        case dateTime(ICalDateTime)
        case duration(ICalDuration)
    }

    public var start: ICalDateTime
    public var end: End

    public init(start: ICalDateTime, end: End) {
        self.start = start
        self.end = end
    }
}

/// REQUEST-STATUS (RFC 5545 §3.8.8.3): a status code, its description and optional data.
public struct ICalRequestStatus: Hashable, Sendable {
    public var code: String
    public var description: String
    public var data: String?

    public init(code: String, description: String, data: String? = nil) {
        self.code = code
        self.description = description
        self.data = data
    }
}

/// GEO (RFC 5545 §3.8.1.6): latitude and longitude.
public struct ICalGeo: Hashable, Sendable {
    public var latitude: Double
    public var longitude: Double

    public init(latitude: Double, longitude: Double) {
        self.latitude = latitude
        self.longitude = longitude
    }
}
