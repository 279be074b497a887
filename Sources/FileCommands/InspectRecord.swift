import CalendarModel
import SyncCore

/// One line of `outboard ics inspect`: the facts a person checks about one component of an item.
struct InspectRecord {
    let item: ICalItem
    let component: ICalComponent
    let diagnostics: [ICalDiagnostic]

    /// The JSON object, keys in a fixed order; absent facts are left out.
    var json: String {
        var o = JSONObject()
        o["component"] = .string(component.name)
        o["key"] = .string(item.key)
        if let uid = item.uid { o["uid"] = .string(uid) }
        let rid = component.recurrenceID
        if let rid, let v = rid.value {
            o["recurrence-id"] = .string(ValueFormatter.icalString(v))
            if let tz = rid.parameter("TZID") { o["recurrence-id-tzid"] = .string(tz) }
            if rid.parameter("RANGE") != nil { o["recurrence-id-range"] = .string(rid.parameter("RANGE")!) }
        }
        if let s = component.property("SUMMARY")?.text { o["summary"] = .string(s) }
        for name in ["DTSTART", "DTEND", "DUE"] {
            guard let p = component.property(name), let v = p.value else { continue }
            let key = name.lowercased()
            o[key] = .string(ValueFormatter.icalString(v))
            if let tz = p.parameter("TZID") { o[key + "-tzid"] = .string(tz) }
        }
        if let d = component.property("DURATION")?.value { o["duration"] = .string(ValueFormatter.icalString(d)) }
        o["has-rrule"] = .bool(component.property("RRULE") != nil)
        if let seq = component.property("SEQUENCE")?.value, case .integer(let n) = seq { o["sequence"] = .number(n) }
        if let status = component.property("STATUS")?.text { o["status"] = .string(status) }
        let ridText = rid?.value.map(ValueFormatter.icalString)
        let mine = diagnostics.filter { d in
            if let uid = item.uid { return d.uid == uid && d.recurrenceID == ridText }
            return d.uid == nil && d.message.contains(item.key)
        }
        o["diagnostics"] = .array(mine.map { .string($0.line > 0 ? "line \($0.line): \($0.message)" : $0.message) })
        return o.text
    }
}

/// A JSON object that keeps its keys in insertion order (RFC 8259 output).
struct JSONObject {
    enum Value {
        case string(String)
        case bool(Bool)
        case number(Int)
        case array([Value])
    }

    private var keys: [String] = []
    private var values: [String: Value] = [:]

    subscript(key: String) -> Value? {
        get { values[key] }
        set {
            if values[key] == nil { keys.append(key) }
            values[key] = newValue
        }
    }

    var text: String {
        "{" + keys.map { JSONObject.quote($0) + ":" + JSONObject.encode(values[$0]!) }.joined(separator: ",") + "}"
    }

    static func encode(_ v: Value) -> String {
        switch v {
        case .string(let s): quote(s)
        case .bool(let b): b ? "true" : "false"
        case .number(let n): String(n)
        case .array(let a): "[" + a.map(encode).joined(separator: ",") + "]"
        }
    }

    static func quote(_ s: String) -> String { ChangeSetPrinter.quote(s) }
}
