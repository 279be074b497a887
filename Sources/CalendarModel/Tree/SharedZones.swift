/// Makes the equal VTIMEZONEs of many calendars one tree, with one storage: a server answering
/// with many entities read one by one (each carrying its zones) then writes each zone once,
/// since the writers repeat a zone they already wrote by its storage (`XCalWriter`,
/// `ICalWriter.WrittenZones`). Lines are not compared (they are not part of equality).
public final class SharedZones {
    private var zones: [ICalComponent] = []
    private static let most = 64

    public init() {}

    /// The calendar with each of its zones replaced by an equal one seen before, if any.
    public func share(_ calendar: ICalComponent) -> ICalComponent {
        var calendar = calendar
        for i in calendar.components.indices where calendar.components[i].name == "VTIMEZONE" {
            if let same = zones.first(where: { $0 == calendar.components[i] }) {
                calendar.components[i] = same
            } else if zones.count < Self.most {
                zones.append(calendar.components[i])
            }
        }
        return calendar
    }
}
