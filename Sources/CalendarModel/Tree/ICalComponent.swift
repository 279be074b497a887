/// A parameter of a property (RFC 5545 §3.2): an uppercased name and its values, unquoted and
/// with RFC 6868 caret escapes decoded.
public struct ICalParameter: Hashable, Sendable {
    public var name: String
    public var values: SmallList<String>

    public init(name: String, values: SmallList<String>) {
        self.name = name
        self.values = values
    }

    public init(name: String, values: [String]) {
        self.init(name: name, values: SmallList(values))
    }

    public init(_ name: String, _ value: String) {
        self.init(name: name, values: SmallList(CollectionOfOne(value)))
    }

    /// The first value (most parameters have exactly one).
    public var value: String { values.first ?? "" }
}

/// A property (RFC 5545 §3.1): an uppercased name, parameters in source order, and one or more
/// typed values. `VALUE=` is not kept as a parameter: the values carry their type (RFC 6321 §3.5.1).
public struct ICalProperty: Hashable, Sendable {
    public var name: String
    public var parameters: [ICalParameter]
    public var values: ICalValues

    public init(name: String, parameters: [ICalParameter] = [], values: ICalValues) {
        self.name = name
        self.parameters = parameters
        self.values = values
    }

    public init(name: String, parameters: [ICalParameter] = [], values: [ICalValue]) {
        self.init(name: name, parameters: parameters, values: ICalValues(values))
    }

    public init(_ name: String, _ value: ICalValue, parameters: [ICalParameter] = []) {
        self.init(name: name, parameters: parameters, values: ICalValues(CollectionOfOne(value)))
    }

    /// The first value.
    public var value: ICalValue? { values.first }

    /// The first value of the named parameter (names compare case-insensitively).
    public func parameter(_ name: String) -> String? {
        let upper = name.uppercased()
        return parameters.first(where: { $0.name == upper })?.values.first
    }

    /// The text of the first value when it is TEXT (or another string-like type).
    public var text: String? { value?.stringValue }
}

/// A component (RFC 5545 §3.6): an uppercased name, its properties in source order and its
/// sub-components. A VCALENDAR is a component too.
public struct ICalComponent: Hashable, Sendable {
    public var name: String
    public var properties: [ICalProperty]
    public var components: [ICalComponent]
    /// The line of its BEGIN in the source it was read from (0 when built in memory). Not part of
    /// equality or hashing: it says where a component came from, not what it means.
    public var line: Int

    /// Where a component's storage is. Two components with the same key share the storage of
    /// their properties and of their sub-components, so (while both are alive) they are the same
    /// tree: a feed's items share its few VTIMEZONE trees, and a zone is recognized this way
    /// without comparing it.
    public struct StorageKey: Hashable, Sendable {
        var name: String
        var properties: UInt, propertyCount: Int
        var components: UInt, componentCount: Int
    }

    /// The storage key, read in place; nil for a component without properties (empty arrays all
    /// share one storage, so they say nothing of identity).
    public var storageKey: StorageKey? {
        properties.withUnsafeBufferPointer { p in
            components.withUnsafeBufferPointer { c in
                p.isEmpty
                    ? nil
                    : StorageKey(
                        name: name, properties: UInt(bitPattern: p.baseAddress), propertyCount: p.count,
                        components: UInt(bitPattern: c.baseAddress), componentCount: c.count)
            }
        }
    }

    public init(name: String, properties: [ICalProperty] = [], components: [ICalComponent] = [], line: Int = 0) {
        self.name = name
        self.properties = properties
        self.components = components
        self.line = line
    }

    public static func == (a: ICalComponent, b: ICalComponent) -> Bool {
        a.name == b.name && a.properties == b.properties && a.components == b.components
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(properties)
        hasher.combine(components)
    }

    /// The first property with this (uppercased) name.
    public func property(_ name: String) -> ICalProperty? {
        properties.first(where: { $0.name == name })
    }

    /// Every property with this (uppercased) name.
    public func properties(named name: String) -> [ICalProperty] {
        properties.filter { $0.name == name }
    }

    /// The UID's text, if the component has one.
    public var uid: String? { property("UID")?.text }

    /// The RECURRENCE-ID property, if the component is an override.
    public var recurrenceID: ICalProperty? { property("RECURRENCE-ID") }
}
