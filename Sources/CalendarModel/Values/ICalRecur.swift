/// A recurrence rule (RFC 5545 §3.3.10), with its parts typed and in no particular order.
///
/// Parts this type does not know (RFC 7529's RSCALE and SKIP, vendor X- parts) are kept in
/// `extensions` in the order they came, so a rule round-trips losslessly.
public struct ICalRecur: Hashable, Sendable {
    /// The end of the rule: a count or an until date, never both (RFC 5545 §3.3.10).
    public enum Until: Hashable, Sendable {
        case date(ICalDate)
        case dateTime(ICalDateTime)
    }

    /// FREQ, uppercased (SECONDLY ... YEARLY).
    public var freq: String
    public var until: Until?
    public var count: Int?
    public var interval: Int?
    public var bySecond: [Int] = []
    public var byMinute: [Int] = []
    public var byHour: [Int] = []
    /// BYDAY entries such as `MO`, `1SU`, `-1FR`, uppercased with no `+`.
    public var byDay: [String] = []
    public var byMonthDay: [Int] = []
    public var byYearDay: [Int] = []
    public var byWeekNo: [Int] = []
    public var byMonth: [Int] = []
    public var bySetPos: [Int] = []
    /// WKST, uppercased (MO ... SU).
    public var wkst: String?
    /// Parts not listed above, as (uppercased name, raw value).
    public var extensions: [Extension] = []

    public struct Extension: Hashable, Sendable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(freq: String) {
        self.freq = freq
    }

}
