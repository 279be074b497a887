import CalendarModel
import SafeXML

/// Why an xCal document could not be read at all.
public enum XCalError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The XML itself was refused (malformed, DOCTYPE, too deep, too large).
    case xml(XMLReadError)
    /// Well-formed XML that is not xCal: names what was found.
    case notXCal(String)

    public var description: String {
        switch self {
        case .xml(let e): e.description
        case .notXCal(let why): "not xCal: \(why)"
        }
    }
}

/// Reads xCal (RFC 6321) into typed iCalendar trees. Values that do not parse as their element's
/// type are kept as `unknown` with a diagnostic that names the XML line. An element of another
/// namespace among a component's properties becomes an `XML` property (RFC 6321 §4.2); elsewhere
/// it is dropped with a diagnostic.
public struct XCalReader: Sendable {
    public var xml: SafeXMLReader

    public init(xml: SafeXMLReader = SafeXMLReader()) {
        self.xml = xml
    }

    /// Reads a whole xCal document (root `icalendar`, or a bare `vcalendar`).
    public func read(_ bytes: [UInt8]) throws(XCalError) -> ICalDocument {
        let root: XMLElement
        do { root = try xml.parse(bytes) } catch { throw .xml(error) }
        guard root.namespace == XCalWriter.namespace else {
            throw .notXCal("the root element <\(root.name)> is not in the namespace \(XCalWriter.namespace)")
        }
        var diagnostics: [ICalDiagnostic] = []
        let calendars: [ICalComponent]
        switch root.name {
        case "icalendar":
            calendars = root.elements.compactMap { e in
                guard e.namespace == XCalWriter.namespace else {
                    diagnostics.append(ICalDiagnostic(line: e.line, message: "element <\(e.name)> outside the xCal namespace dropped"))
                    return nil
                }
                return Self.component(e, &diagnostics)
            }
        case "vcalendar":
            calendars = [Self.component(root, &diagnostics)]
        default:
            throw .notXCal("the root element is <\(root.name)>, where <icalendar> was expected")
        }
        return ICalDocument(calendars: calendars, diagnostics: diagnostics)
    }

    /// A component from its xCal element.
    public static func component(_ e: XMLElement, _ diagnostics: inout [ICalDiagnostic]) -> ICalComponent {
        var c = ICalComponent(name: e.name.uppercased(), line: e.line)
        for section in e.elements {
            guard section.namespace == XCalWriter.namespace else {
                diagnostics.append(ICalDiagnostic(line: section.line, message: "element <\(section.name)> outside the xCal namespace dropped"))
                continue
            }
            switch section.name {
            case "properties":
                for p in section.elements {
                    guard p.namespace == XCalWriter.namespace else {
                        // RFC 6321 §4.2: an extension element of another namespace is kept as
                        // an XML property holding the element with its namespace declaration.
                        c.properties.append(ICalProperty("XML", .text(XMLSerializer.string(p, prefixes: [p.namespace: ""], declaration: false))))
                        continue
                    }
                    c.properties.append(property(p, &diagnostics))
                }
            case "components":
                for sub in section.elements where sub.namespace == XCalWriter.namespace {
                    c.components.append(component(sub, &diagnostics))
                }
            default:
                diagnostics.append(ICalDiagnostic(line: section.line, message: "unexpected <\(section.name)> in <\(e.name)>; dropped"))
            }
        }
        return c
    }

    /// A parameter from its xCal element (a boolean value upper-cased, as iCalendar spells it).
    public static func parameter(_ e: XMLElement) -> ICalParameter {
        ICalParameter(name: e.name.uppercased(), values: e.elements.map { $0.name == "boolean" ? $0.text.uppercased() : $0.text })
    }

    /// A property from its xCal element.
    public static func property(_ e: XMLElement, _ diagnostics: inout [ICalDiagnostic]) -> ICalProperty {
        let name = e.name.uppercased()
        var p = ICalProperty(name: name, values: [])
        if let params = e.child("parameters", namespace: XCalWriter.namespace) {
            for param in params.elements { p.parameters.append(parameter(param)) }
        }
        let values = e.elements.filter { $0.name != "parameters" }
        switch name {
        case "GEO" where values.contains { $0.name == "latitude" }:
            let lat = e.child("latitude")?.text ?? "", lon = e.child("longitude")?.text ?? ""
            if let v = ICalValue.parse("\(lat);\(lon)", as: .geo) {
                p.values = [v]
            } else {
                diagnostics.append(ICalDiagnostic(line: e.line, message: "GEO \(lat);\(lon) is not two floats; kept as it is"))
                p.values = [.unknown("\(lat);\(lon)")]
            }
            return p
        case "REQUEST-STATUS" where values.contains { $0.name == "code" }:
            let code = e.child("code")?.text ?? ""
            let desc = e.child("description")?.text ?? ""
            p.values = [.requestStatus(ICalRequestStatus(code: code, description: desc, data: e.child("data")?.text))]
            return p
        default:
            break
        }
        for v in values {
            p.values.append(value(v, property: name, &diagnostics))
        }
        return p
    }

    /// One value element.
    static func value(_ v: XMLElement, property: String, _ diagnostics: inout [ICalDiagnostic]) -> ICalValue {
        let t = v.text
        var result: ICalValue?
        switch v.name {
        case "text": result = .text(t)
        case "uri": result = .uri(t)
        case "cal-address": result = .calAddress(t)
        case "unknown": result = .unknown(t)
        case "binary": result = ICalValue.parse(t, as: .binary)
        case "boolean": result = ICalValue.parse(t, as: .boolean)
        case "date": result = XCalLexical.parseDate(t).map(ICalValue.date)
        case "date-time": result = XCalLexical.parseDateTime(t).map(ICalValue.dateTime)
        case "time": result = XCalLexical.parseTime(t).map(ICalValue.time)
        case "utc-offset": result = XCalLexical.parseUTCOffset(t).map(ICalValue.utcOffset)
        case "duration": result = ICalValue.parse(t, as: .duration)
        case "integer": result = ICalValue.parse(t, as: .integer)
        case "float": result = ICalValue.parse(t, as: .float)
        case "period": result = period(v)
        case "recur": result = recur(v)
        default:
            diagnostics.append(ICalDiagnostic(line: v.line, message: "\(property) has an unknown value element <\(v.name)>; kept as unknown"))
            return .unknown(t)
        }
        if let result { return result }
        let shown = v.name == "recur" || v.name == "period" ? "" : " \"\(t)\""
        diagnostics.append(ICalDiagnostic(line: v.line, message: "\(property) <\(v.name)>\(shown) is not valid; kept as unknown"))
        return .unknown(v.name == "recur" || v.name == "period" ? "" : t)
    }

    private static func period(_ v: XMLElement) -> ICalValue? {
        guard let start = v.child("start").flatMap({ XCalLexical.parseDateTime($0.text) }) else { return nil }
        if let end = v.child("end") {
            return XCalLexical.parseDateTime(end.text).map { .period(ICalPeriod(start: start, end: .dateTime($0))) }
        }
        if let dur = v.child("duration"), case .duration(let d)? = ICalValue.parse(dur.text, as: .duration) {
            return .period(ICalPeriod(start: start, end: .duration(d)))
        }
        return nil
    }

    /// Rebuilds the rule text from its parts and reads it with the iCalendar rule parser, so both
    /// formats share one definition of a valid rule.
    private static func recur(_ v: XMLElement) -> ICalValue? {
        var parts: [String: [String]] = [:]
        var order: [String] = []
        for part in v.elements {
            var value = part.text
            if part.name == "until" {
                if let dt = XCalLexical.parseDateTime(value) {
                    value = ValueFormatter.icalString(.dateTime(dt))
                } else if let d = XCalLexical.parseDate(value) {
                    value = ValueFormatter.icalString(.date(d))
                } else {
                    return nil
                }
            }
            let key = part.name.uppercased()
            if parts[key] == nil { order.append(key) }
            parts[key, default: []].append(value)
        }
        let text = order.map { "\($0)=\(parts[$0]!.joined(separator: ","))" }.joined(separator: ";")
        return ICalValue.parse(text, as: .recur)
    }
}
