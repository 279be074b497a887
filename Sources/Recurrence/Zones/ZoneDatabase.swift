/// The seam to the system's zone database (tzdata): the offset history of a named zone.
///
/// `FoundationZoneDatabase` is the default; tests may pass a fixed table.
public protocol ZoneDatabase: Sendable {
    /// The offsets of the zone named `identifier` (an IANA name or one of its aliases) between
    /// two UTC instants (epoch seconds), or nil when the database has no such zone.
    func history(of identifier: String, from start: Int64, to end: Int64) -> ZoneHistory?
    /// The rules of the zone `name` over `ZoneSpan`, called `identifier`, or nil when the
    /// database has no such zone. A database may keep them: rules are immutable and shared.
    func rules(of name: String, identifier: String) -> ZoneRules?
}

extension ZoneDatabase {
    public func rules(of name: String, identifier: String) -> ZoneRules? {
        history(of: name, from: ZoneSpan.start, to: ZoneSpan.end).map {
            ZoneRules(identifier: identifier, source: .database(name), history: $0)
        }
    }
}

/// The span zone tables cover: 1900-01-01 to 2200-01-01 (UTC). Outside it the offset at the
/// nearer end holds (no DST is applied before 1900 or after 2199).
enum ZoneSpan {
    static let start: Int64 = -2_208_988_800
    static let end: Int64 = 7_258_118_400
}
