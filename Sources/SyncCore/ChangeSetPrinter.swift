import CalendarModel

/// Renders updates for people: one line per edit, each whole on its own, marked `+` (added),
/// `-` (removed) or `~` (changed), naming the component path, the property and the values:
///
///     ~ VEVENT uid=match-1 SUMMARY "Lions vs Tigers" -> "Lions vs Bears"
///     ~ VEVENT uid=match-1 ATTENDEE mailto:ann@x.org PARTSTAT "NEEDS-ACTION" -> "ACCEPTED"
///     + VEVENT uid=match-1 CATEGORIES "Athletics"
///     - VEVENT uid=series-1 recurrence-id=20260112T090000
public enum ChangeSetPrinter {
    /// The lines of an update to an item (its root selects the VCALENDAR).
    public static func lines(_ update: ComponentUpdate) -> [String] {
        var out: [String] = []
        walk(update, context: update.selector.name == "VCALENDAR" ? "" : update.selector.description, into: &out)
        return out
    }

    /// One line per component of an item that is new (`+`) or gone (`-`).
    public static func lines(wholeItem item: ICalItem, marker: Character) -> [String] {
        item.components.map { "\(marker) \(ComponentIdentity.selector(of: $0).description)" }
    }

    static func walk(_ u: ComponentUpdate, context: String, into out: inout [String]) {
        let at = context.isEmpty ? "" : context + " "
        for r in u.properties.removes { out.append("- \(at)\(r.name) \(values(r.values))") }
        for ch in u.properties.changes {
            let name = ch.current.name
            if let new = ch.newValues { out.append("~ \(at)\(name) \(values(ch.current.values)) -> \(values(new))") }
            let which = "\(at)\(name) \(values(ch.current.values))"
            for r in ch.parameters.removes { out.append("- \(which) \(r.name) \(quoted(r.values))") }
            for c in ch.parameters.changes {
                out.append("~ \(which) \(c.current.name) \(quoted(c.current.values)) -> \(quoted(c.new.values))")
            }
            for a in ch.parameters.adds { out.append("+ \(which) \(a.name) \(quoted(a.values))") }
        }
        for a in u.properties.adds {
            let params = a.parameters.map { ";\($0.name)=\($0.values.joined(separator: ","))" }.joined()
            out.append("+ \(at)\(a.name)\(params) \(values(a.values))")
        }
        let prefix = context.isEmpty ? "" : context + " > "
        for r in u.components.removes { out.append("- \(prefix)\(r.description)") }
        for sub in u.components.updates { walk(sub, context: prefix + sub.selector.description, into: &out) }
        for a in u.components.adds { out.append("+ \(prefix)\(ComponentIdentity.selector(of: a).description)") }
    }

    /// TEXT quoted (newlines as \n), other values in iCalendar form; a list joined by commas.
    static func values(_ vs: ICalValues) -> String {
        vs.map { v in
            if case .text(let s) = v { return quote(s) }
            return ValueFormatter.icalString(v)
        }.joined(separator: ",")
    }

    static func quoted(_ vs: SmallList<String>) -> String { vs.map(quote).joined(separator: ",") }

    /// `s` as a JSON string literal: quotes and backslashes escaped, newlines as `\n`, other
    /// control characters as `\u00XX`, so a quoted value never breaks its line.
    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
