/// A name or a glob over names (`X-MS-*`, `*-STAMP`), matched against uppercased names.
public struct NamePattern: Hashable, Sendable, CustomStringConvertible {
    public let pattern: String
    private let parts: [Substring]
    private let isLiteral: Bool

    /// A pattern; `*` matches any run of characters. Matching ignores case.
    public init(_ pattern: String) {
        self.pattern = pattern.uppercased()
        self.parts = self.pattern.split(separator: "*", omittingEmptySubsequences: false)
        self.isLiteral = !self.pattern.contains("*")
    }

    public var description: String { pattern }

    /// True when `name` (uppercased) matches.
    public func matches(_ name: String) -> Bool {
        if isLiteral { return name == pattern }
        var rest = Substring(name)
        guard rest.hasPrefix(parts[0]) else { return false }
        rest = rest.dropFirst(parts[0].count)
        for (i, part) in parts.enumerated().dropFirst() {
            if i == parts.count - 1 { return rest.hasSuffix(part) }
            guard let r = rest.firstRange(of: part) else { return false }
            rest = rest[r.upperBound...]
        }
        return true
    }
}

/// Components, properties and parameters that a comparison and a hash leave out.
public struct SkipList: Hashable, Sendable {
    public var components: [NamePattern]
    public var properties: [NamePattern]
    public var parameters: [NamePattern]

    public init(components: [String] = [], properties: [String] = [], parameters: [String] = []) {
        self.components = components.map(NamePattern.init)
        self.properties = properties.map(NamePattern.init)
        self.parameters = parameters.map(NamePattern.init)
    }

    /// Nothing skipped.
    public static let none = SkipList()

    /// What a subscribed feed rewrites without meaning anything: PRODID, VERSION, DTSTAMP,
    /// CREATED and LAST-MODIFIED (as Bedework's differ does, reference/bedework.md §6).
    public static let defaults = SkipList(properties: ["PRODID", "VERSION", "DTSTAMP", "CREATED", "LAST-MODIFIED"])

    public func skipsComponent(_ name: String) -> Bool { components.contains { $0.matches(name) } }
    public func skipsProperty(_ name: String) -> Bool { properties.contains { $0.matches(name) } }
    public func skipsParameter(_ name: String) -> Bool { parameters.contains { $0.matches(name) } }

    /// This list extended by another (duplicates dropped).
    public func merging(_ other: SkipList) -> SkipList {
        var merged = self
        for p in other.components where !merged.components.contains(p) { merged.components.append(p) }
        for p in other.properties where !merged.properties.contains(p) { merged.properties.append(p) }
        for p in other.parameters where !merged.parameters.contains(p) { merged.parameters.append(p) }
        return merged
    }
}
