import CalendarModel

/// Compares two versions of a component (or item) by meaning and returns the field-level edits
/// that turn the target's copy into the source's, leaving out what a skip list names.
///
/// - Components pair by identity (`ComponentIdentity`); a component only in the source is
///   added whole, one only in the target is removed.
/// - Properties pair by name. Equal ones (by canonical form) are left alone; then properties
///   with the same value pair (an ATTENDEE whose PARTSTAT changed is a parameter change); a
///   single remaining property on each side is a change; the rest are removes and adds.
/// - CATEGORIES, RESOURCES, EXDATE, RDATE and FREEBUSY are sets: each value is compared on its
///   own, whatever line it was written on.
public enum Differ {
    /// The edits that turn the target item into the source item.
    public static func diff(source: ICalItem, target: ICalItem, skip: SkipList = .defaults) -> ComponentUpdate {
        diff(source: source.calendar(properties: []), target: target.calendar(properties: []), skip: skip)
    }

    /// The edits that turn `target` into `source` (two versions of one component).
    public static func diff(source: ICalComponent, target: ICalComponent, skip: SkipList = .defaults) -> ComponentUpdate
    {
        var u = ComponentUpdate(selector: ComponentIdentity.selector(of: target))
        // Equal as written (most time zones, most alarms): nothing to compare by meaning.
        if source == target { return u }
        u.properties = properties(source.properties, target.properties, skip)
        u.components = components(source.components, target.components, skip)
        return u
    }

    // MARK: Properties

    static func properties(_ source: [ICalProperty], _ target: [ICalProperty], _ skip: SkipList) -> PropertyUpdates {
        var updates = PropertyUpdates()
        // Group by name, in the target's order then the source's: one pass each.
        var groups: [(name: String, src: [ICalProperty], tgt: [ICalProperty])] = []
        var index: [String: Int] = [:]
        func group(_ name: String) -> Int {
            if let i = index[name] { return i }
            groups.append((name, [], []))
            index[name] = groups.count - 1
            return groups.count - 1
        }
        for p in expand(target, skip) { groups[group(p.name)].tgt.append(p) }
        for p in expand(source, skip) { groups[group(p.name)].src.append(p) }

        for (name, srcGroup, tgtGroup) in groups {
            var src = srcGroup
            var tgt = tgtGroup
            // 1. Equal in full: nothing to do. Equal as written is checked first; the canonical
            // keys (which cost allocations) only for what is left.
            if src.count == 1, tgt.count == 1, src[0] == tgt[0] { continue }
            pair(&src, &tgt, by: { CanonicalForm.key(of: $0, skipping: skip) }) { _, _ in }
            if src.isEmpty && tgt.isEmpty { continue }
            // 2. Same value, other parameters: a parameter change. (A parameter named twice on one
            // line cannot be edited by name: such a property is replaced whole, in step 3.)
            pair(&src, &tgt, by: { repeatsParameter($0) ? nil : ComponentIdentity.selectionKey($0) }) { s, t in
                updates.changes.append(
                    PropertyChange(current: t, parameters: parameters(s.parameters, t.parameters, skip)))
            }
            // 3. One left on each side of a single-valued property: a change; else removes and adds.
            if src.count == 1, tgt.count == 1, !PropertyTypes.isSetValued(name), !repeatsParameter(src[0]),
                !repeatsParameter(tgt[0])
            {
                let params = parameters(src[0].parameters, tgt[0].parameters, skip)
                let valuesDiffer = CanonicalForm.key(of: src[0].values) != CanonicalForm.key(of: tgt[0].values)
                updates.changes.append(
                    PropertyChange(current: tgt[0], parameters: params, newValues: valuesDiffer ? src[0].values : nil))
            } else {
                updates.removes += tgt
                updates.adds += src
            }
        }
        return updates
    }

    /// Pairs each target property with the first source property of the same key (each used
    /// once; a nil key pairs with nothing), hands each pair to `paired`, and leaves the rest.
    static func pair<K: Equatable>(
        _ src: inout [ICalProperty], _ tgt: inout [ICalProperty], by key: (ICalProperty) -> K?,
        _ paired: (_ source: ICalProperty, _ target: ICalProperty) -> Void
    ) {
        var srcKeys = src.map(key)
        var i = 0
        while i < tgt.count {
            if let k = key(tgt[i]), let j = srcKeys.firstIndex(where: { $0 == k }) {
                paired(src[j], tgt[i])
                src.remove(at: j)
                srcKeys.remove(at: j)
                tgt.remove(at: i)
            } else {
                i += 1
            }
        }
    }

    static func repeatsParameter(_ p: ICalProperty) -> Bool {
        guard p.parameters.count > 1 else { return false }
        return Set(p.parameters.map(\.name)).count != p.parameters.count
    }

    /// Properties without the skipped ones, list properties split into one property per value.
    static func expand(_ props: [ICalProperty], _ skip: SkipList) -> [ICalProperty] {
        var out: [ICalProperty] = []
        out.reserveCapacity(props.count)
        for p in props where !skip.skipsProperty(p.name) {
            if p.values.count > 1, PropertyTypes.isSetValued(p.name) {
                for v in p.values { out.append(ICalProperty(p.name, v, parameters: p.parameters)) }
            } else {
                out.append(p)
            }
        }
        return out
    }

    static func parameters(_ source: [ICalParameter], _ target: [ICalParameter], _ skip: SkipList) -> ParameterUpdates {
        var u = ParameterUpdates()
        let s = source.filter { !skip.skipsParameter($0.name) }
        let t = target.filter { !skip.skipsParameter($0.name) }
        for tp in t {
            if let sp = s.first(where: { $0.name == tp.name }) {
                if CanonicalForm.key(of: sp) != CanonicalForm.key(of: tp) {
                    u.changes.append(ParameterChange(current: tp, new: sp))
                }
            } else {
                u.removes.append(tp)
            }
        }
        for sp in s where !t.contains(where: { $0.name == sp.name }) { u.adds.append(sp) }
        return u
    }

    // MARK: Components

    static func components(_ source: [ICalComponent], _ target: [ICalComponent], _ skip: SkipList) -> ComponentUpdates {
        var updates = ComponentUpdates()
        var src = source.filter { !skip.skipsComponent($0.name) }
        let tgt = target.filter { !skip.skipsComponent($0.name) }
        let keys = tgt.map(ComponentIdentity.key)
        var counts: [[UInt8]: Int] = [:]
        for k in keys { counts[k, default: 0] += 1 }

        for (i, t) in tgt.enumerated() {
            if counts[keys[i]]! > 1 {
                // Siblings that share an identity (two DISPLAY alarms at -PT15M) cannot be told
                // apart by it: keep an identical one, else remove by full content and add anew.
                let full = CanonicalForm.bytes(of: t, skipping: skip)
                if let j = src.firstIndex(where: { CanonicalForm.bytes(of: $0, skipping: skip) == full }) {
                    src.remove(at: j)
                } else {
                    updates.removes.append(ComponentSelector(name: t.name, properties: t.properties))
                }
                continue
            }
            if let j = src.firstIndex(where: { ComponentIdentity.key(of: $0) == keys[i] }) {
                let u = diff(source: src[j], target: t, skip: skip)
                if !u.isEmpty { updates.updates.append(u) }
                src.remove(at: j)
            } else {
                updates.removes.append(ComponentIdentity.selector(of: t))
            }
        }
        updates.adds = src
        return updates
    }
}
