import CalendarModel
import Yams
import YAMLConfig

/// Loads a filter from its YAML text, checking everything up front: unknown keys, bad regular
/// expressions (compiled here), values that do not fit their property, and names that are not
/// standard where a standard one was likely meant. Nothing is left to fail at sync time.
///
/// ```yaml
/// stage: output                # input | output
/// description: Public events only, tagged for the athletics calendar.
/// rules:
///   - add: CATEGORIES
///     value: Athletics
///   - drop: true
///     when: { property: CLASS, matches: '^(PRIVATE|CONFIDENTIAL)$' }
/// skip:                        # output filters only
///   properties: [DTSTAMP, SEQUENCE]
/// ```
public enum FilterLoader {
    static let topKeys = ["stage", "description", "rules", "skip"]
    static let actionKeys = [
        "remove-component", "remove-property", "remove-parameter", "rename-property",
        "set", "add", "default", "rewrite", "map", "drop",
    ]
    static let ruleKeys =
        actionKeys + ["when", "from", "to", "value", "parameters", "pattern", "replacement", "values"]
    static let whenKeys = ["component", "has", "missing", "property", "matches", "ended-days-ago"]

    /// The filter, or every problem found in it.
    public static func load(name: String, text: String, file: String) -> Result<Filter, ConfigProblems> {
        let reader = ConfigReader(file: file)
        guard let root = reader.root(text) else { return .failure(ConfigProblems(reader.problems)) }
        var filter = Filter(name: name, stage: .input, rules: [], file: file)
        filter.source = CanonicalForm.sha256Hex(Array(text.utf8))

        if let stage = root.string("stage") {
            if let s = FilterStage(rawValue: stage) {
                filter.stage = s
            } else {
                reader.problem(line: root.line(of: "stage"), "stage should be input or output, not \"\(stage)\"")
            }
        } else {
            reader.problem(
                line: root.line,
                "stage is missing: say input (applied to what comes from the feed) or output (applied on the way to a target)"
            )
        }
        filter.description = root.string("description")
        if let rules = root.list("rules") {
            for (number, node) in rules {
                if let rule = loadRule(number: number, node: node, reader: reader) { filter.rules.append(rule) }
            }
        } else if root.node("rules") == nil, root.node("skip") == nil {
            reader.problem(line: root.line, "the filter has neither rules nor skip: it would do nothing")
        }
        if let skip = root.map("skip") {
            if filter.stage == .input {
                reader.problem(
                    line: root.line(of: "skip"),
                    "skip belongs in an output filter: it tells the comparison what to ignore for a target")
            }
            let components = names(skip, "components", kind: .component) ?? []
            let properties = names(skip, "properties", kind: .property) ?? []
            let parameters = names(skip, "parameters", kind: .parameter) ?? []
            skip.rejectUnknownKeys(allowed: ["components", "properties", "parameters"])
            filter.skip = SkipList(components: components, properties: properties, parameters: parameters)
        }
        root.rejectUnknownKeys(allowed: topKeys)
        return reader.problems.isEmpty ? .success(filter) : .failure(ConfigProblems(reader.problems))
    }

    // MARK: Rules

    static func loadRule(number: Int, node: Node, reader: ConfigReader) -> FilterRule? {
        guard let map = ConfigMap(node, reader: reader, context: "rule \(number)") else { return nil }
        let present = actionKeys.filter { map.keys.contains($0) }
        guard present.count == 1, let actionKey = present.first else {
            let what = present.isEmpty ? "has no action" : "has several actions (\(present.joined(separator: ", ")))"
            reader.problem(
                line: map.line, "rule \(number) \(what); give exactly one of: \(actionKeys.joined(separator: ", "))")
            // Reported once, not once per key.
            for key in map.keys { _ = map.node(key) }
            return nil
        }
        let before = reader.problems.count
        let action = loadAction(actionKey, map, reader)
        let condition = map.map("when", context: "when of rule \(number)").flatMap { loadCondition($0, reader) }
        if case .drop? = action, condition == nil {
            reader.problem(line: map.line, "rule \(number) drops every item: give it a when condition")
        }
        if action == nil {
            // The action's own keys were not all read after its problem: they are not unknown.
            for key in allowedKeys(for: actionKey) { _ = map.node(key) }
        }
        map.rejectUnknownKeys(allowed: allowedKeys(for: actionKey))
        guard let action, reader.problems.count == before else { return nil }
        return FilterRule(number: number, line: map.line, action: action, condition: condition)
    }

    static func allowedKeys(for action: String) -> [String] {
        switch action {
        case "remove-parameter": [action, "from", "when"]
        case "rename-property": [action, "to", "when"]
        case "set", "add", "default": [action, "value", "parameters", "when"]
        case "rewrite": [action, "pattern", "replacement", "when"]
        case "map": [action, "values", "when"]
        default: [action, "when"]
        }
    }

    static func loadAction(_ key: String, _ map: ConfigMap, _ reader: ConfigReader) -> FilterAction? {
        switch key {
        case "remove-component":
            return names(map, key, kind: .component).map { .removeComponents(NameSet($0)) }
        case "remove-property":
            return names(map, key, kind: .property).map { .removeProperties(NameSet($0)) }
        case "remove-parameter":
            guard let params = names(map, key, kind: .parameter) else { return nil }
            let from = names(map, "from", kind: .property)
            return .removeParameters(NameSet(params), from: from.map { NameSet($0) })
        case "rename-property":
            guard let from = propertyName(map, key),
                let to = propertyName(map, "to", required: true, context: "rename-property")
            else { return nil }
            return .renameProperty(from: from, to: to)
        case "set", "add", "default":
            guard let name = propertyName(map, key), let prop = property(name, map, reader) else { return nil }
            return key == "set" ? .setProperty(prop) : key == "add" ? .addProperty(prop) : .defaultProperty(prop)
        case "rewrite":
            guard let name = propertyName(map, key) else { return nil }
            guard let pattern = map.string("pattern") else {
                reader.problem(line: map.line, "\(map.context): rewrite needs a pattern (a regular expression)")
                return nil
            }
            guard let regex = compile(pattern, line: map.line(of: "pattern"), reader) else { return nil }
            guard let replacement = map.string("replacement") else {
                reader.problem(
                    line: map.line, "\(map.context): rewrite needs a replacement (use '' to delete what matches)")
                return nil
            }
            return .rewrite(property: name, pattern: regex, template: replacement)
        case "map":
            guard let name = propertyName(map, key) else { return nil }
            guard let values = map.map("values", context: "values of \(map.context)") else {
                reader.problem(line: map.line, "\(map.context): map needs values, a table of old value: new value")
                return nil
            }
            var table: [String: String] = [:]
            for k in values.keys {
                if let v = values.string(k) { table[k] = v }
            }
            return .mapValues(property: name, table: table)
        case "drop":
            guard let b = map.bool("drop") else { return nil }
            if !b {
                reader.problem(
                    line: map.line(of: "drop"),
                    "\(map.context): drop: false does nothing; remove the rule or say drop: true")
            }
            return .drop
        default:
            return nil
        }
    }

    static func loadCondition(_ map: ConfigMap, _ reader: ConfigReader) -> FilterCondition? {
        var c = FilterCondition()
        if let comps = names(map, "component", kind: .component) { c.components = NameSet(comps) }
        c.has = names(map, "has", kind: .property) ?? []
        c.missing = names(map, "missing", kind: .property) ?? []
        c.property = propertyName(map, "property", required: false)
        if let pattern = map.string("matches") {
            c.matches = compile(pattern, line: map.line(of: "matches"), reader)
            if c.property == nil {
                reader.problem(
                    line: map.line(of: "matches"), "\(map.context): matches needs property (whose value to match)")
            }
        } else if c.property != nil {
            reader.problem(
                line: map.line(of: "property"),
                "\(map.context): property needs matches (a regular expression for its value)")
        }
        if let days = map.int("ended-days-ago") {
            if days < 0 { reader.problem(line: map.line(of: "ended-days-ago"), "ended-days-ago should be 0 or more") }
            c.endedDaysAgo = days
        }
        map.rejectUnknownKeys(allowed: whenKeys)
        return c
    }

    // MARK: Names and values

    enum NameKind {
        case component, property, parameter

        var known: [String] {
            switch self {
            case .component: PropertyTypes.knownComponentNames
            case .property: PropertyTypes.knownPropertyNames
            case .parameter: PropertyTypes.knownParameterNames
            }
        }

        var word: String {
            switch self {
            case .component: "component"
            case .property: "property"
            case .parameter: "parameter"
            }
        }
    }

    /// Names (or globs) under `key`, uppercased; a name that is neither standard nor X- nor a glob
    /// is reported, with the standard name it most resembles.
    static func names(_ map: ConfigMap, _ key: String, kind: NameKind) -> [String]? {
        guard let raw = map.strings(key) else { return nil }
        var out: [String] = []
        for name in raw {
            let upper = name.uppercased()
            let valid =
                !upper.isEmpty
                && upper.utf8.allSatisfy {
                    ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x2A
                }
            if !valid {
                map.reader.problem(
                    line: map.line(of: key),
                    "\"\(name)\" in \(map.context) is not a \(kind.word) name (letters, digits, '-', and '*' as a wildcard)"
                )
                continue
            }
            if !upper.contains("*"), !upper.hasPrefix("X-"), !kind.known.contains(upper) {
                map.reader.problem(
                    line: map.line(of: key),
                    "unknown \(kind.word) \"\(name)\" in \(map.context)\(Suggestion.hint(upper, kind.known)); vendor names start with X-"
                )
                continue
            }
            out.append(upper)
        }
        return out
    }

    /// One property name (no glob) under `key`.
    static func propertyName(_ map: ConfigMap, _ key: String, required: Bool = true, context: String? = nil) -> String?
    {
        guard map.node(key) != nil else {
            if required {
                map.reader.problem(line: map.line, "\(map.context): \(context ?? key) needs \(key), a property name")
            }
            return nil
        }
        guard let names = names(map, key, kind: .property) else { return nil }
        guard names.count == 1, !names[0].contains("*") else {
            if !names.isEmpty {
                map.reader.problem(
                    line: map.line(of: key), "\(key) in \(map.context) takes one property name, without wildcards")
            }
            return nil
        }
        return names[0]
    }

    /// The property a set/add/default rule writes: its value typed as the property's default type
    /// (TEXT as written; other types in iCalendar form, e.g. `20260105T090000Z`).
    static func property(_ name: String, _ map: ConfigMap, _ reader: ConfigReader) -> ICalProperty? {
        guard let text = map.string("value") else {
            reader.problem(line: map.line, "\(map.context): needs value")
            return nil
        }
        var params: [ICalParameter] = []
        if let p = map.map("parameters", context: "parameters of \(map.context)") {
            for key in p.keys {
                let upper = key.uppercased()
                if !upper.hasPrefix("X-"), !PropertyTypes.knownParameterNames.contains(upper) {
                    reader.problem(
                        line: p.line(of: key),
                        "unknown parameter \"\(key)\" in \(p.context)\(Suggestion.hint(upper, PropertyTypes.knownParameterNames))"
                    )
                }
                if let v = p.string(key) { params.append(ICalParameter(upper, v)) }
            }
        }
        let type = PropertyTypes.defaultType(of: name) ?? .text
        let value: ICalValue?
        switch type {
        case .text: value = .text(text)
        case .unknown: value = .unknown(text)
        default: value = ICalValue.parse(text, as: type)
        }
        guard let value else {
            reader.problem(
                line: map.line(of: "value"),
                "\(map.context): \"\(text)\" is not a valid \(type.icalName ?? type.rawValue) for \(name)")
            return nil
        }
        return ICalProperty(name, value, parameters: params)
    }

    static func compile(_ pattern: String, line: Int, _ reader: ConfigReader) -> Regex<AnyRegexOutput>? {
        do {
            return try Regex(pattern)
        } catch {
            reader.problem(line: line, "bad regular expression \"\(pattern)\": \(error)")
            return nil
        }
    }
}
