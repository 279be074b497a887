/// Settings for expanding recurrences.
public struct ExpansionOptions: Sendable {
    /// Where zone offsets come from (the system's tzdata by default).
    public var zoneDatabase: any ZoneDatabase
    /// The zone floating and DATE values are placed in when the calendar has no usable
    /// X-WR-TIMEZONE (an IANA name; default UTC).
    public var floatingZone: String
    /// Most instances one series yields in one query; the series then ends with a diagnostic.
    public var instanceCap: Int
    /// Most empty periods in a row a rule is scanned for before it ends with a diagnostic.
    public var maxEmptyPeriods: Int

    public init(
        zoneDatabase: any ZoneDatabase = FoundationZoneDatabase(), floatingZone: String = "UTC",
        instanceCap: Int = 100_000, maxEmptyPeriods: Int = 2_000_000
    ) {
        self.zoneDatabase = zoneDatabase
        self.floatingZone = floatingZone
        self.instanceCap = instanceCap
        self.maxEmptyPeriods = maxEmptyPeriods
    }
}
