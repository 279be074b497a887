import CalendarModel

/// What one rule did to one item.
public struct RuleEffect: Hashable, Sendable, CustomStringConvertible {
    public var filter: String
    public var rule: Int
    public var summary: String
    /// Properties, parameters, values or components changed, added or removed.
    public var changes: Int

    public init(filter: String, rule: Int, summary: String, changes: Int) {
        self.filter = filter
        self.rule = rule
        self.summary = summary
        self.changes = changes
    }

    public var description: String {
        "filter \(filter) rule \(rule) (\(summary)): \(changes) change\(changes == 1 ? "" : "s")"
    }
}

/// The outcome of running an item through a pipeline.
public enum FilterResult: Sendable {
    /// The filtered item and what each rule that changed something did.
    case kept(ICalItem, effects: [RuleEffect])
    /// A rule dropped the item.
    case dropped(filter: String, rule: Int, line: Int)

    /// The item, when it was kept.
    public var item: ICalItem? {
        if case .kept(let item, _) = self { return item }
        return nil
    }
}

/// A subscription's filters in order: its input filters, then its output filters. Pure and
/// deterministic; it never changes its input (items are values).
public struct FilterPipeline: Sendable {
    public let filters: [Filter]

    public init(input: [Filter], output: [Filter]) {
        self.filters = input + output
    }

    public init(_ filters: [Filter]) {
        self.filters = filters
    }

    /// The default skip list extended by every output filter's skip list.
    public var skipList: SkipList {
        filters.filter { $0.stage == .output }.reduce(SkipList.defaults) { $0.merging($1.skip) }
    }

    /// What a filtered item depends on besides the item itself, as bytes: each filter's name,
    /// stage and the text it was loaded from, in order. Nil when the outcome depends on the time
    /// as well (a rule with `ended-days-ago`), or on a filter built in code (its rules have no
    /// text to be known by).
    public var fingerprint: [UInt8]? {
        var out = Array("outboard filter pipeline 1\n".utf8)
        for f in filters {
            guard let source = f.source, !f.rules.contains(where: { $0.condition?.endedDaysAgo != nil }) else {
                return nil
            }
            out += Array("\(f.name)\n\(f.stage.rawValue)\n\(source)\n".utf8)
        }
        return out
    }

    /// Runs every rule of every filter on `item`. `now` (UTC) is what `ended-days-ago` measures from.
    public func run(_ item: ICalItem, now: ICalDateTime) -> FilterResult {
        var item = item
        var effects: [RuleEffect] = []
        for filter in filters {
            for rule in filter.rules {
                if case .drop = rule.action {
                    let subject = item.master ?? item.components.first
                    if let subject, RuleEngine.holds(rule.condition, on: subject, now: now) {
                        return .dropped(filter: filter.name, rule: rule.number, line: rule.line)
                    }
                    continue
                }
                let changes = RuleEngine.apply(rule, to: &item, now: now)
                if changes > 0 {
                    effects.append(
                        RuleEffect(
                            filter: filter.name, rule: rule.number, summary: rule.action.summary, changes: changes))
                }
            }
        }
        return .kept(item, effects: effects)
    }
}

/// Applies single rules to items.
enum RuleEngine {
    /// Applies a (non-drop) rule and returns how many things it changed.
    static func apply(_ rule: FilterRule, to item: inout ICalItem, now: ICalDateTime) -> Int {
        var changes = 0
        switch rule.action {
        case .removeComponents(let names):
            if names.contains("VTIMEZONE") {
                let before = item.timezones.count
                item.timezones.removeAll { holds(rule.condition, on: $0, now: now) }
                changes += before - item.timezones.count
            }
            for i in item.components.indices {
                changes += removeSubcomponents(names, rule.condition, in: &item.components[i], now: now)
            }
        case .removeProperties, .removeParameters:
            // Removals reach every depth (an alarm's X- properties too).
            for i in item.components.indices {
                changes += everyDepth(&item.components[i]) { c in
                    guard scopeHolds(rule.condition, c, defaultAll: true), holds(rule.condition, on: c, now: now) else {
                        return 0
                    }
                    return removal(rule.action, &c)
                }
            }
        default:
            for i in item.components.indices {
                changes += everyDepth(&item.components[i]) { c in
                    guard scopeHolds(rule.condition, c, defaultAll: false), holds(rule.condition, on: c, now: now)
                    else { return 0 }
                    return edit(rule.action, &c)
                }
            }
        }
        return changes
    }

    /// Runs `body` on a component and every sub-component; returns the summed changes.
    static func everyDepth(_ c: inout ICalComponent, _ body: (inout ICalComponent) -> Int) -> Int {
        var n = body(&c)
        for i in c.components.indices { n += everyDepth(&c.components[i], body) }
        return n
    }

    /// Property and parameter edits go to the item's own components unless `when: component:`
    /// names others; removals go everywhere.
    static func scopeHolds(_ condition: FilterCondition?, _ c: ICalComponent, defaultAll: Bool) -> Bool {
        if let names = condition?.components { return names.contains(c.name) }
        return defaultAll || PropertyTypes.isItemComponent(c.name)
    }

    static func removeSubcomponents(
        _ names: NameSet, _ condition: FilterCondition?, in c: inout ICalComponent, now: ICalDateTime
    ) -> Int {
        let before = c.components.count
        c.components.removeAll { names.contains($0.name) && holds(condition, on: $0, now: now) }
        var n = before - c.components.count
        for i in c.components.indices { n += removeSubcomponents(names, condition, in: &c.components[i], now: now) }
        return n
    }

    static func removal(_ action: FilterAction, _ c: inout ICalComponent) -> Int {
        switch action {
        case .removeProperties(let names):
            let before = c.properties.count
            c.properties.removeAll { names.contains($0.name) }
            return before - c.properties.count
        case .removeParameters(let params, let from):
            var n = 0
            for i in c.properties.indices where from?.contains(c.properties[i].name) ?? true {
                let before = c.properties[i].parameters.count
                c.properties[i].parameters.removeAll { params.contains($0.name) }
                n += before - c.properties[i].parameters.count
            }
            return n
        default:
            return 0
        }
    }

    static func edit(_ action: FilterAction, _ c: inout ICalComponent) -> Int {
        switch action {
        case .renameProperty(let from, let to):
            var n = 0
            for i in c.properties.indices where c.properties[i].name == from {
                c.properties[i].name = to
                n += 1
            }
            return n
        case .setProperty(let p):
            if c.properties(named: p.name) == [p] { return 0 }
            c.properties.removeAll { $0.name == p.name }
            c.properties.append(p)
            return 1
        case .addProperty(let p):
            // Already there, alone or inside a list line (CATEGORIES:A,Athletics): nothing to add.
            let present = c.properties.contains { $0.name == p.name && (p.values.allSatisfy($0.values.contains)) }
            if present { return 0 }
            c.properties.append(p)
            return 1
        case .defaultProperty(let p):
            if c.property(p.name) != nil { return 0 }
            c.properties.append(p)
            return 1
        case .rewrite(let name, let pattern, let template):
            var n = 0
            for i in c.properties.indices where c.properties[i].name == name {
                var values = ICalValues()
                for v in c.properties[i].values {
                    if case .text(let s) = v {
                        let rewritten = rewrite(s, pattern, template)
                        if rewritten != s { n += 1 }
                        values.append(.text(rewritten))
                    } else {
                        values.append(v)
                    }
                }
                c.properties[i].values = values
            }
            return n
        case .mapValues(let name, let table):
            var n = 0
            for i in c.properties.indices where c.properties[i].name == name {
                var values = ICalValues()
                for v in c.properties[i].values {
                    if let s = v.stringValue, let mapped = table[s] {
                        values.append(v.type == .text ? .text(mapped) : .unknown(mapped))
                        n += 1
                    } else {
                        values.append(v)
                    }
                }
                c.properties[i].values = values
            }
            return n
        default:
            return 0
        }
    }

    /// Replaces every match with the template; `$0`…`$9` insert the match and its groups, `$$` a dollar.
    static func rewrite(_ s: String, _ pattern: Regex<AnyRegexOutput>, _ template: String) -> String {
        s.replacing(pattern) { match -> String in
            var out = ""
            var chars = template.makeIterator()
            while let ch = chars.next() {
                guard ch == "$" else {
                    out.append(ch)
                    continue
                }
                guard let next = chars.next() else {
                    out.append("$")
                    break
                }
                if next == "$" {
                    out.append("$")
                    continue
                }
                if let d = next.wholeNumberValue, d < match.output.count {
                    if let sub = match.output[d].substring { out += sub }
                } else {
                    out.append("$")
                    out.append(next)
                }
            }
            return out
        }
    }

    // MARK: Conditions

    static func holds(_ condition: FilterCondition?, on c: ICalComponent, now: ICalDateTime) -> Bool {
        guard let condition else { return true }
        if let names = condition.components, !names.contains(c.name) { return false }
        for name in condition.has where c.property(name) == nil { return false }
        for name in condition.missing where c.property(name) != nil { return false }
        if let name = condition.property, let regex = condition.matches {
            let texts = c.properties(named: name).flatMap(\.values).map(displayText)
            if !texts.contains(where: { (try? regex.firstMatch(in: $0)) != nil }) { return false }
        }
        if let days = condition.endedDaysAgo, !ended(c, daysBefore: days, now: now) { return false }
        return true
    }

    /// The text a condition matches against: TEXT unescaped, other values in iCalendar form.
    static func displayText(_ v: ICalValue) -> String {
        if case .text(let s) = v { return s }
        return v.stringValue ?? ValueFormatter.icalString(v)
    }

    /// True when the component does not recur and its end lies more than `days` days before now.
    /// Local and floating times are taken at their latest possible instant (UTC-12), so an event
    /// is never dropped early whatever its zone.
    static func ended(_ c: ICalComponent, daysBefore days: Int, now: ICalDateTime) -> Bool {
        if c.property("RRULE") != nil || c.property("RDATE") != nil { return false }
        guard let end = EndOfComponent.latestEndMinutes(c) else { return false }
        return end < Minutes.of(now) - days * 24 * 60
    }
}
