import CalendarModel

/// Picks one component among its siblings, as CalWS-SOAP's selection skeleton does: the
/// component's name and the properties that identify it (UID and RECURRENCE-ID for an event,
/// ACTION and TRIGGER for an alarm, TZID for a time zone, DTSTART for a time-zone rule; every
/// property for a component with no identity of its own; none for the VCALENDAR).
public struct ComponentSelector: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var properties: [ICalProperty]

    public init(name: String, properties: [ICalProperty] = []) {
        self.name = name
        self.properties = properties
    }

    /// `VEVENT uid=abc recurrence-id=20260105T090000`.
    public var description: String {
        ([name]
            + properties.map { p in
                let v = p.values.map(ValueFormatter.icalString).joined(separator: ",")
                return "\(p.name.lowercased())=\(v)"
            }).joined(separator: " ")
    }
}

/// Edits to one component, in CalWS-SOAP `updateItem` terms (standards.md §2.4): its properties'
/// removes, changes and adds, and its sub-components' removes, updates and adds.
public struct ComponentUpdate: Hashable, Sendable {
    public var selector: ComponentSelector
    public var properties: PropertyUpdates
    public var components: ComponentUpdates

    public init(
        selector: ComponentSelector, properties: PropertyUpdates = .init(), components: ComponentUpdates = .init()
    ) {
        self.selector = selector
        self.properties = properties
        self.components = components
    }

    /// True when nothing changes.
    public var isEmpty: Bool { properties.isEmpty && components.isEmpty }

    /// How many edits it holds (removes, changes and adds, at every depth).
    public var count: Int {
        properties.count + components.removes.count + components.adds.count
            + components.updates.reduce(0) { $0 + $1.count }
    }
}

/// The property edits of one component.
public struct PropertyUpdates: Hashable, Sendable {
    /// Properties to remove, each given with its current value. For a list property (CATEGORIES,
    /// EXDATE …) a removal names one value, which leaves the property's other values in place.
    public var removes: [ICalProperty] = []
    public var changes: [PropertyChange] = []
    /// Properties to append.
    public var adds: [ICalProperty] = []

    public init(removes: [ICalProperty] = [], changes: [PropertyChange] = [], adds: [ICalProperty] = []) {
        self.removes = removes
        self.changes = changes
        self.adds = adds
    }

    public var isEmpty: Bool { removes.isEmpty && changes.isEmpty && adds.isEmpty }
    public var count: Int { removes.count + adds.count + changes.reduce(0) { $0 + $1.count } }
}

/// A change to one property, selected by its name and current value.
public struct PropertyChange: Hashable, Sendable {
    /// The property as it is now (its parameters are context; selection is by name and value).
    public var current: ICalProperty
    public var parameters: ParameterUpdates
    /// The new values, when the value changes; parameters not edited are kept.
    public var newValues: ICalValues?

    public init(current: ICalProperty, parameters: ParameterUpdates = .init(), newValues: ICalValues? = nil) {
        self.current = current
        self.parameters = parameters
        self.newValues = newValues
    }

    public var count: Int { parameters.count + (newValues == nil ? 0 : 1) }
}

/// The parameter edits of one property.
public struct ParameterUpdates: Hashable, Sendable {
    public var removes: [ICalParameter] = []
    public var changes: [ParameterChange] = []
    public var adds: [ICalParameter] = []

    public init(removes: [ICalParameter] = [], changes: [ParameterChange] = [], adds: [ICalParameter] = []) {
        self.removes = removes
        self.changes = changes
        self.adds = adds
    }

    public var isEmpty: Bool { removes.isEmpty && changes.isEmpty && adds.isEmpty }
    public var count: Int { removes.count + changes.count + adds.count }
}

/// A parameter's value change.
public struct ParameterChange: Hashable, Sendable {
    public var current: ICalParameter
    public var new: ICalParameter

    public init(current: ICalParameter, new: ICalParameter) {
        self.current = current
        self.new = new
    }
}

/// The sub-component edits of one component.
public struct ComponentUpdates: Hashable, Sendable {
    public var removes: [ComponentSelector] = []
    public var updates: [ComponentUpdate] = []
    /// Whole components to append.
    public var adds: [ICalComponent] = []

    public init(removes: [ComponentSelector] = [], updates: [ComponentUpdate] = [], adds: [ICalComponent] = []) {
        self.removes = removes
        self.updates = updates
        self.adds = adds
    }

    public var isEmpty: Bool { removes.isEmpty && updates.isEmpty && adds.isEmpty }
}
