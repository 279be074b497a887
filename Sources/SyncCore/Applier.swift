import CalendarModel

/// Why an update could not be applied: a selector found nothing, or found more than one thing.
/// Nothing is guessed; the caller refetches and diffs again.
public enum ApplyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// `path` is where in the tree (`VEVENT uid=x`), `what` the selector that matched nothing.
    case noMatch(path: String, what: String)
    /// The selector matched `count` different things.
    case ambiguous(path: String, what: String, count: Int)

    public var description: String {
        switch self {
        case .noMatch(let path, let what): "\(path): nothing matches \(what)"
        case .ambiguous(let path, let what, let count): "\(path): \(count) different things match \(what)"
        }
    }
}

/// Applies updates: at each level removes first, then changes, then adds (appended), as
/// CalWS-SOAP requires. Several matches that are identical in meaning count as one (the first is
/// taken): they cannot be told apart, and editing any of them gives the same result.
public enum Applier {
    /// The target item with the update applied.
    public static func apply(_ update: ComponentUpdate, to item: ICalItem) throws(ApplyError) -> ICalItem {
        let calendar = try apply(update, to: item.calendar(properties: []))
        let zones = calendar.components.filter { $0.name == "VTIMEZONE" }
        var comps = calendar.components.filter { $0.name != "VTIMEZONE" }
        if let m = comps.firstIndex(where: { $0.recurrenceID == nil }), m != 0 {
            comps.insert(comps.remove(at: m), at: 0)
        }
        return ICalItem(key: item.key, uid: item.uid, components: comps, timezones: zones)
    }

    /// `component` with the update applied; the update's selector must match it.
    public static func apply(_ update: ComponentUpdate, to component: ICalComponent) throws(ApplyError) -> ICalComponent
    {
        guard ComponentIdentity.matches(update.selector, component) else {
            throw .noMatch(path: component.name, what: update.selector.description)
        }
        var c = component
        try apply(update, to: &c, path: ComponentIdentity.selector(of: component).description)
        return c
    }

    static func apply(_ u: ComponentUpdate, to c: inout ICalComponent, path: String) throws(ApplyError) {
        // Properties: removes, changes, adds.
        for r in u.properties.removes {
            let (index, valueIndex) = try locate(r, in: c.properties, path: path)
            if let valueIndex, c.properties[index].values.count > 1 {
                c.properties[index].values = ICalValues(
                    c.properties[index].values.enumerated().filter { $0.offset != valueIndex }.map(\.element))
            } else {
                c.properties.remove(at: index)
            }
        }
        for ch in u.properties.changes {
            let (found, valueIndex) = try locate(ch.current, in: c.properties, path: path)
            var index = found
            if let valueIndex, c.properties[index].values.count > 1 {
                // One value of a list line changes its parameters: it becomes a line of its own.
                let value = c.properties[index].values[valueIndex]
                c.properties[index].values = ICalValues(
                    c.properties[index].values.enumerated().filter { $0.offset != valueIndex }.map(\.element))
                c.properties.append(
                    ICalProperty(c.properties[index].name, value, parameters: c.properties[index].parameters))
                index = c.properties.count - 1
            }
            try applyParameters(ch.parameters, to: &c.properties[index], path: path)
            if let v = ch.newValues { c.properties[index].values = v }
        }
        c.properties += u.properties.adds

        // Components: removes, updates, adds.
        for r in u.components.removes {
            let i = try locate(r, in: c.components, path: path)
            c.components.remove(at: i)
        }
        for sub in u.components.updates {
            let i = try locate(sub.selector, in: c.components, path: path)
            try apply(sub, to: &c.components[i], path: path + " > " + sub.selector.description)
        }
        c.components += u.components.adds
    }

    static func applyParameters(_ u: ParameterUpdates, to p: inout ICalProperty, path: String) throws(ApplyError) {
        let at = "\(path) > \(p.name)"
        for r in u.removes {
            guard let i = p.parameters.firstIndex(where: { $0.name == r.name }) else {
                throw .noMatch(path: at, what: "parameter \(r.name)")
            }
            p.parameters.remove(at: i)
        }
        for ch in u.changes {
            let key = CanonicalForm.key(of: ch.current)
            guard let i = p.parameters.firstIndex(where: { CanonicalForm.key(of: $0) == key }) else {
                throw .noMatch(
                    path: at, what: "parameter \(ch.current.name)=\(ch.current.values.joined(separator: ","))")
            }
            p.parameters[i] = ch.new
        }
        for a in u.adds {
            if let i = p.parameters.firstIndex(where: { $0.name == a.name }) {
                p.parameters[i] = a
            } else {
                p.parameters.append(a)
            }
        }
    }

    /// The property the selector names, and for a list property the index of the named value.
    static func locate(_ selector: ICalProperty, in props: [ICalProperty], path: String) throws(ApplyError) -> (
        Int, Int?
    ) {
        let what = "\(selector.name) \(selector.values.map(ValueFormatter.icalString).joined(separator: ","))"
        if PropertyTypes.isSetValued(selector.name), selector.values.count == 1 {
            let wanted = CanonicalForm.key(of: selector.values)
            let tz = selector.parameter("TZID")
            var hits: [(Int, Int)] = []
            for (i, p) in props.enumerated() where p.name == selector.name && p.parameter("TZID") == tz {
                for (k, v) in p.values.enumerated() where CanonicalForm.key(of: v) == wanted { hits.append((i, k)) }
            }
            guard let first = hits.first else { throw .noMatch(path: path, what: what) }
            let distinct = Set(hits.map { CanonicalForm.key(of: props[$0.0], skipping: .none) })
            if hits.count > 1, distinct.count > 1 { throw .ambiguous(path: path, what: what, count: hits.count) }
            return (first.0, first.1)
        }
        let key = ComponentIdentity.selectionKey(selector)
        let hits = props.indices.filter {
            props[$0].name == selector.name && ComponentIdentity.selectionKey(props[$0]) == key
        }
        guard let first = hits.first else { throw .noMatch(path: path, what: what) }
        if hits.count > 1, Set(hits.map { CanonicalForm.key(of: props[$0]) }).count > 1 {
            throw .ambiguous(path: path, what: what, count: hits.count)
        }
        return (first, nil)
    }

    static func locate(_ selector: ComponentSelector, in comps: [ICalComponent], path: String) throws(ApplyError) -> Int
    {
        let hits = comps.indices.filter { ComponentIdentity.matches(selector, comps[$0]) }
        guard let first = hits.first else { throw .noMatch(path: path, what: selector.description) }
        if hits.count > 1, Set(hits.map { CanonicalForm.bytes(of: comps[$0]) }).count > 1 {
            throw .ambiguous(path: path, what: selector.description, count: hits.count)
        }
        return first
    }
}
