/// One synchronized unit: every VEVENT, VTODO or VJOURNAL that shares a UID (the master and its
/// RECURRENCE-ID overrides), with the VTIMEZONEs they refer to.
public struct ICalItem: Hashable, Sendable {
    /// The UID, or a stable derived key (`derived-…`) for a component that has none.
    public var key: String
    /// The UID as the feed wrote it, nil when the component had none.
    public var uid: String?
    /// The master first (when there is one), then the overrides ordered by RECURRENCE-ID.
    public var components: [ICalComponent]
    /// The VTIMEZONEs whose TZID the components use, ordered by TZID.
    public var timezones: [ICalComponent]

    public init(key: String, uid: String?, components: [ICalComponent], timezones: [ICalComponent] = []) {
        self.key = key
        self.uid = uid
        self.components = components
        self.timezones = timezones
    }

    /// The component without RECURRENCE-ID, if the feed has one.
    public var master: ICalComponent? { components.first { $0.recurrenceID == nil } }

    /// The components with a RECURRENCE-ID.
    public var overrides: [ICalComponent] { components.filter { $0.recurrenceID != nil } }

    /// The item as a VCALENDAR: the given calendar properties, the time zones, then the components.
    public func calendar(properties: [ICalProperty] = ICalItem.defaultCalendarProperties) -> ICalComponent {
        ICalComponent(name: "VCALENDAR", properties: properties, components: timezones + components)
    }

    /// `VERSION:2.0` and Outboard's PRODID.
    public static let defaultCalendarProperties: [ICalProperty] = [
        ICalProperty("VERSION", .text("2.0")),
        ICalProperty("PRODID", .text("-//Outboard//Outboard Sync Engine//EN")),
    ]
}

/// The items of a stream, the calendar-level properties of its first VCALENDAR, and what was wrong.
public struct ItemSet: Sendable {
    public var items: [ICalItem]
    public var calendarProperties: [ICalProperty]
    public var diagnostics: [ICalDiagnostic]
    /// Items whose UID came more than once for one component (two masters, or two overrides with
    /// one RECURRENCE-ID), by key: how many copies were left out (the latest revision is kept).
    public var duplicates: [String: Int]
    /// Every VTIMEZONE of the stream (the first of each TZID), used by an item or not.
    public var timezones: [ICalComponent]

    public init(
        items: [ICalItem], calendarProperties: [ICalProperty], diagnostics: [ICalDiagnostic],
        duplicates: [String: Int] = [:],
        timezones: [ICalComponent] = []
    ) {
        self.items = items
        self.calendarProperties = calendarProperties
        self.diagnostics = diagnostics
        self.duplicates = duplicates
        self.timezones = timezones
    }
}
