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

/// A set of names given as literals and globs. Literal names are looked up by hash, globs tried in
/// turn: the hash and the diff ask this for every property they meet.
public struct NameSet: Hashable, Sendable, CustomStringConvertible {
    public private(set) var patterns: [NamePattern] = []
    private var literals: Set<String> = []
    private var globs: [NamePattern] = []

    public init(_ names: [String] = []) {
        for n in names { insert(NamePattern(n)) }
    }

    /// Bit `b & 63` is set for the first byte `b` of every literal: most names are ruled out by
    /// their first byte alone, before any comparison or hash.
    private var literalFirstBytes: UInt64 = 0

    /// Adds a pattern (a duplicate is ignored).
    public mutating func insert(_ p: NamePattern) {
        guard !patterns.contains(p) else { return }
        patterns.append(p)
        if p.pattern.contains("*") {
            globs.append(p)
        } else {
            literals.insert(p.pattern)
            literalFirstBytes |= 1 << UInt64((p.pattern.utf8.first ?? 0) & 63)
        }
    }

    /// True when an uppercased `name` matches a literal or a glob.
    @inline(__always) public func contains(_ name: String) -> Bool {
        if patterns.isEmpty { return false }
        if literalFirstBytes & (1 << UInt64((name.utf8.first ?? 0) & 63)) != 0, literals.contains(name) { return true }
        return !globs.isEmpty && globs.contains { $0.matches(name) }
    }

    public var isEmpty: Bool { patterns.isEmpty }
    public var description: String { patterns.map(\.pattern).joined(separator: ", ") }
}

/// Components, properties and parameters that a comparison and a hash leave out.
public struct SkipList: Hashable, Sendable {
    public var components: NameSet
    public var properties: NameSet
    public var parameters: NameSet

    public init(components: [String] = [], properties: [String] = [], parameters: [String] = []) {
        self.components = NameSet(components)
        self.properties = NameSet(properties)
        self.parameters = NameSet(parameters)
    }

    /// Nothing skipped.
    public static let none = SkipList()

    /// What a subscribed feed rewrites without meaning anything: PRODID, VERSION, DTSTAMP,
    /// CREATED and LAST-MODIFIED (as Bedework's differ does, reference/bedework.md §6).
    public static let defaults = SkipList(properties: ["PRODID", "VERSION", "DTSTAMP", "CREATED", "LAST-MODIFIED"])

    public func skipsComponent(_ name: String) -> Bool { components.contains(name) }
    public func skipsProperty(_ name: String) -> Bool { properties.contains(name) }
    public func skipsParameter(_ name: String) -> Bool { parameters.contains(name) }

    /// An equal list that shares no storage with this one. Each thread that hashes items takes
    /// one: reading shared storage retains and releases it, and two cores doing so at once make
    /// its reference count bounce between their caches.
    public func unshared() -> SkipList {
        func fresh(_ set: NameSet) -> [String] {
            set.patterns.map { String(decoding: Array($0.pattern.utf8), as: UTF8.self) }
        }
        return SkipList(components: fresh(components), properties: fresh(properties), parameters: fresh(parameters))
    }

    /// This list extended by another (duplicates dropped).
    public func merging(_ other: SkipList) -> SkipList {
        var merged = self
        for p in other.components.patterns { merged.components.insert(p) }
        for p in other.properties.patterns { merged.properties.insert(p) }
        for p in other.parameters.patterns { merged.parameters.insert(p) }
        return merged
    }
}
