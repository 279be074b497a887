/// A namespace-qualified XML element with its attributes and children: the small tree that the
/// xCal and CalWS-SOAP codecs read and write. It holds no libxml2 state.
public struct XMLElement: Sendable, Equatable {
    /// The namespace URI, or "" for none.
    public var namespace: String
    /// The local name.
    public var name: String
    public var attributes: [XMLAttribute]
    public var children: [XMLNode]
    /// The line the element started on in the source (0 for elements built in memory).
    public var line: Int

    public init(
        _ name: String, namespace: String, attributes: [XMLAttribute] = [], children: [XMLNode] = [], line: Int = 0
    ) {
        self.namespace = namespace
        self.name = name
        self.attributes = attributes
        self.children = children
        self.line = line
    }

    /// An element holding only text.
    public init(_ name: String, namespace: String, text: String) {
        self.init(name, namespace: namespace, children: [.text(text)])
    }

    /// Equality ignores `line`.
    public static func == (a: XMLElement, b: XMLElement) -> Bool {
        a.namespace == b.namespace && a.name == b.name && a.attributes == b.attributes && a.children == b.children
    }

    /// The child elements, in order.
    public var elements: [XMLElement] {
        children.compactMap { if case .element(let e) = $0 { e } else { nil } }
    }

    /// The first child element with this local name (and namespace, when given).
    public func child(_ name: String, namespace: String? = nil) -> XMLElement? {
        for case .element(let e) in children where e.name == name && (namespace == nil || e.namespace == namespace) {
            return e
        }
        return nil
    }

    /// Every child element with this local name (and namespace, when given).
    public func children(_ name: String, namespace: String? = nil) -> [XMLElement] {
        elements.filter { $0.name == name && (namespace == nil || $0.namespace == namespace) }
    }

    /// The concatenated text of the direct text children.
    public var text: String {
        var s = ""
        for case .text(let t) in children { s += t }
        return s
    }

    /// The value of an attribute without namespace.
    public func attribute(_ name: String) -> String? {
        attributes.first { $0.name == name && $0.namespace.isEmpty }?.value
    }

    /// Appends a child element.
    public mutating func append(_ e: XMLElement) { children.append(.element(e)) }
}

/// An attribute; `namespace` is "" for an unqualified one.
public struct XMLAttribute: Sendable, Hashable {
    public var namespace: String
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String, namespace: String = "") {
        self.namespace = namespace
        self.name = name
        self.value = value
    }
}

/// A child of an element: another element or a run of text (CDATA is read as text).
public enum XMLNode: Sendable, Equatable {
    case element(XMLElement)
    case text(String)
}
