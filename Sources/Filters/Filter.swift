import CalendarModel

/// Where a filter applies: to what comes from the feed, or on the way to a target.
public enum FilterStage: String, Sendable, CaseIterable {
    case input
    case output
}

/// A curator's filter: an ordered list of rules, loaded from `Filters/NAME.yaml`.
public struct Filter: Sendable {
    /// The file's stem.
    public var name: String
    public var stage: FilterStage
    public var description: String?
    public var rules: [FilterRule]
    /// What the comparison must ignore for the target (output filters only).
    public var skip: SkipList
    /// The file it came from, for messages.
    public var file: String
    /// The hex SHA-256 of the text it was loaded from (nil for a filter built in code).
    public var source: String?

    public init(
        name: String, stage: FilterStage, description: String? = nil, rules: [FilterRule], skip: SkipList = .none,
        file: String = ""
    ) {
        self.name = name
        self.stage = stage
        self.description = description
        self.rules = rules
        self.skip = skip
        self.file = file
    }
}

/// One rule: an action, optionally under a condition.
public struct FilterRule: Sendable {
    /// 1-based position in the filter's `rules` list.
    public var number: Int
    /// The line the rule starts on.
    public var line: Int
    public var action: FilterAction
    public var condition: FilterCondition?

    public init(number: Int, line: Int = 0, action: FilterAction, condition: FilterCondition? = nil) {
        self.number = number
        self.line = line
        self.action = action
        self.condition = condition
    }
}

/// What a rule does.
public enum FilterAction: @unchecked Sendable {
    /// Removes sub-components (VALARM) anywhere in the item.
    case removeComponents(NameSet)
    /// Removes properties (names or globs such as `X-MS-*`).
    case removeProperties(NameSet)
    /// Removes parameters from every property, or from the named properties only.
    case removeParameters(NameSet, from: NameSet?)
    /// Renames a property, keeping its parameters and values.
    case renameProperty(from: String, to: String)
    /// Replaces every property of this name with this one.
    case setProperty(ICalProperty)
    /// Adds this property unless an equal one is already there.
    case addProperty(ICalProperty)
    /// Adds this property only when none of its name is there.
    case defaultProperty(ICalProperty)
    /// Rewrites the text values of a property: each match of the pattern is replaced by the
    /// template, in which `$0`…`$9` stand for the match and its groups.
    case rewrite(property: String, pattern: Regex<AnyRegexOutput>, template: String)
    /// Replaces values found in the table (exact match), leaving others as they are.
    case mapValues(property: String, table: [String: String])
    /// Drops the whole item.
    case drop

    /// A short description for reports: `add CATEGORIES`, `remove VALARM`.
    public var summary: String {
        switch self {
        case .removeComponents(let n): "remove component \(n)"
        case .removeProperties(let n): "remove property \(n)"
        case .removeParameters(let p, let from): "remove parameter \(p)" + (from.map { " from \($0)" } ?? "")
        case .renameProperty(let a, let b): "rename \(a) to \(b)"
        case .setProperty(let p): "set \(p.name)"
        case .addProperty(let p): "add \(p.name)"
        case .defaultProperty(let p): "default \(p.name)"
        case .rewrite(let p, _, _): "rewrite \(p)"
        case .mapValues(let p, _): "map \(p)"
        case .drop: "drop item"
        }
    }
}

/// When a rule applies. Every given part must hold.
public struct FilterCondition: @unchecked Sendable {
    /// The component types the rule applies to (default: any but VTIMEZONE and its parts).
    public var components: NameSet?
    /// Properties that must be present.
    public var has: [String] = []
    /// Properties that must be absent.
    public var missing: [String] = []
    /// A property whose value (any of its values) must match `matches`.
    public var property: String?
    public var matches: Regex<AnyRegexOutput>?
    /// The component is not recurring and ended more than this many days before now.
    public var endedDaysAgo: Int?

    public init() {}
}
