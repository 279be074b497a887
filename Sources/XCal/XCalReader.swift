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

    /// Reads a whole xCal document (root `icalendar`, or a bare `vcalendar`), streamed: no XML
    /// tree is built.
    public func read(_ bytes: [UInt8]) throws(XCalError) -> ICalDocument {
        do {
            return try XMLCursor.walk(bytes, limits: xml.limits) { try Self.document(&$0) }
        } catch let e as XCalError {
            throw e
        } catch let e as XMLReadError {
            throw .xml(e)
        } catch {
            throw .notXCal("\(error)")  // not reached: the walk throws only the two above
        }
    }

    /// The document the walker is at (root `icalendar`, or a bare `vcalendar`).
    public static func document<W: XMLWalker>(_ root: inout W) throws -> ICalDocument {
        guard root.namespace == XCalWriter.namespace else {
            throw XCalError.notXCal("the root element <\(root.name)> is not in the namespace \(XCalWriter.namespace)")
        }
        var diagnostics: [ICalDiagnostic] = []
        var calendars: [ICalComponent] = []
        switch root.name {
        case "icalendar":
            try calendars = self.calendars(&root, &diagnostics)
        case "vcalendar":
            calendars = [try component(&root, &diagnostics)]
        default:
            throw XCalError.notXCal("the root element is <\(root.name)>, where <icalendar> was expected")
        }
        return ICalDocument(calendars: calendars, diagnostics: diagnostics)
    }

    /// The calendars of the `icalendar` element the walker is at.
    @_specialize(where W == XMLCursor)
    public static func calendars<W: XMLWalker>(_ e: inout W, _ diagnostics: inout [ICalDiagnostic]) throws
        -> [ICalComponent]
    {
        var calendars: [ICalComponent] = []
        try e.forEachChild { c in
            guard c.namespace == XCalWriter.namespace else {
                diagnostics.append(
                    ICalDiagnostic(line: c.line, message: "element <\(c.name)> outside the xCal namespace dropped"))
                return
            }
            calendars.append(try component(&c, &diagnostics))
        }
        return calendars
    }

    /// A component from its xCal element.
    public static func component(_ e: XMLElement, _ diagnostics: inout [ICalDiagnostic]) -> ICalComponent {
        var w = XMLElementWalker(e)
        return try! component(&w, &diagnostics)  // a tree in memory has nothing left to refuse
    }

    /// A property from its xCal element.
    public static func property(_ e: XMLElement, _ diagnostics: inout [ICalDiagnostic]) -> ICalProperty {
        var w = XMLElementWalker(e)
        return try! property(&w, &diagnostics)  // a tree in memory has nothing left to refuse
    }

    /// A parameter from its xCal element.
    public static func parameter(_ e: XMLElement) -> ICalParameter {
        var w = XMLElementWalker(e)
        return try! parameter(&w)  // a tree in memory has nothing left to refuse
    }

    /// The component the walker is at. (Specialized here for the cursor, which other modules
    /// pass: a generic call from there would go through the protocol for every element.)
    /// A VTIMEZONE repeated in one document (a CalWS request or response carries each
    /// entity's zones) is read once, if reading it gave no diagnostic: its repeats share that
    /// tree and its storage (see `ICalComponent.storageKey`); each keeps its own line, its
    /// sub-components' lines are the first's.
    @_specialize(where W == XMLCursor)
    public static func component<W: XMLWalker>(_ e: inout W, _ diagnostics: inout [ICalDiagnostic]) throws
        -> ICalComponent
    {
        guard e.name == "vtimezone" else { return try content(&e, &diagnostics) }
        let line = e.line
        var zone = try e.reading("xcal.vtimezone") { zone in
            var own: [ICalDiagnostic] = []
            let c = try content(&zone, &own)
            diagnostics += own
            return (c, own.isEmpty)
        }
        zone.line = line
        return zone
    }

    /// The component the walker is at, read.
    private static func content<W: XMLWalker>(_ e: inout W, _ diagnostics: inout [ICalDiagnostic]) throws
        -> ICalComponent
    {
        let name = e.name
        var c = ICalComponent(name: name.asciiUppercased(), line: e.line)
        try e.forEachChild { section in
            guard section.namespace == XCalWriter.namespace else {
                diagnostics.append(
                    ICalDiagnostic(
                        line: section.line, message: "element <\(section.name)> outside the xCal namespace dropped"))
                return
            }
            switch section.name {
            case "properties":
                try section.forEachChild { p in
                    guard p.namespace == XCalWriter.namespace else {
                        // RFC 6321 §4.2: an extension element of another namespace is kept as
                        // an XML property holding the element with its namespace declaration.
                        let x = try p.element()
                        c.properties.append(
                            ICalProperty(
                                "XML", .text(XMLSerializer.string(x, prefixes: [x.namespace: ""], declaration: false))))
                        return
                    }
                    c.properties.append(try property(&p, &diagnostics))
                }
            case "components":
                try section.forEachChild { sub in
                    if sub.namespace == XCalWriter.namespace { c.components.append(try component(&sub, &diagnostics)) }
                }
            default:
                diagnostics.append(
                    ICalDiagnostic(line: section.line, message: "unexpected <\(section.name)> in <\(name)>; dropped"))
            }
        }
        return c
    }

    /// The parameter the walker is at (a boolean value upper-cased, as iCalendar spells it).
    public static func parameter<W: XMLWalker>(_ e: inout W) throws -> ICalParameter {
        var p = ICalParameter(name: e.name.asciiUppercased(), values: [])
        try e.forEachChild { v in
            let boolean = v.name == "boolean"
            let t = try v.text()
            p.values.append(boolean ? t.asciiUppercased() : t)
        }
        return p
    }

    /// The property the walker is at. GEO and REQUEST-STATUS hold their parts directly.
    public static func property<W: XMLWalker>(_ e: inout W, _ diagnostics: inout [ICalDiagnostic]) throws
        -> ICalProperty
    {
        let name = e.name.asciiUppercased()
        let line = e.line
        var p = ICalProperty(name: name, values: [])
        // GEO and REQUEST-STATUS parts are only known to be such once every child is read;
        // until then they are taken as values too (of an unknown kind), with their diagnostics
        // held back.
        let structured = name == "GEO" || name == "REQUEST-STATUS"
        var parts: [String: String] = [:]
        var held: [ICalDiagnostic] = []
        try e.forEachChild { v in
            if v.name == "parameters" {
                try v.forEachChild { param in p.parameters.append(try parameter(&param)) }
                return
            }
            let key = v.name
            let value = try value(&v, property: name, &held)
            if structured, case .unknown(let t) = value, parts[key] == nil { parts[key] = t }
            p.values.append(value)
        }
        if name == "GEO", let lat = parts["latitude"] {
            let lon = parts["longitude"] ?? ""
            if let v = ICalValue.parse("\(lat);\(lon)", as: .geo) {
                p.values = [v]
            } else {
                diagnostics.append(
                    ICalDiagnostic(line: line, message: "GEO \(lat);\(lon) is not two floats; kept as it is"))
                p.values = [.unknown("\(lat);\(lon)")]
            }
        } else if name == "REQUEST-STATUS", let code = parts["code"] {
            p.values = [
                .requestStatus(
                    ICalRequestStatus(code: code, description: parts["description"] ?? "", data: parts["data"]))
            ]
        } else {
            diagnostics += held
        }
        return p
    }

    /// The value element the walker is at.
    static func value<W: XMLWalker>(_ v: inout W, property: String, _ diagnostics: inout [ICalDiagnostic]) throws
        -> ICalValue
    {
        let kind = v.name
        let line = v.line
        var result: ICalValue?
        var t = ""
        switch kind {
        case "period": result = try period(&v)
        case "recur": result = try recur(&v)
        default:
            t = try v.text()
            switch kind {
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
            default:
                diagnostics.append(
                    ICalDiagnostic(
                        line: line, message: "\(property) has an unknown value element <\(kind)>; kept as unknown"))
                return .unknown(t)
            }
        }
        if let result { return result }
        let structured = kind == "recur" || kind == "period"
        diagnostics.append(
            ICalDiagnostic(
                line: line,
                message: "\(property) <\(kind)>\(structured ? "" : " \"\(t)\"") is not valid; kept as unknown"))
        return .unknown(t)
    }

    private static func period<W: XMLWalker>(_ v: inout W) throws -> ICalValue? {
        var start: String?
        var end: String?
        var duration: String?
        try v.forEachChild { part in
            switch part.name {
            case "start": if start == nil { start = try part.text() }
            case "end": if end == nil { end = try part.text() }
            case "duration": if duration == nil { duration = try part.text() }
            default: break
            }
        }
        guard let start = start.flatMap(XCalLexical.parseDateTime) else { return nil }
        if let end {
            return XCalLexical.parseDateTime(end).map { .period(ICalPeriod(start: start, end: .dateTime($0))) }
        }
        if let duration, case .duration(let d)? = ICalValue.parse(duration, as: .duration) {
            return .period(ICalPeriod(start: start, end: .duration(d)))
        }
        return nil
    }

    /// Rebuilds the rule text from its parts and reads it with the iCalendar rule parser, so both
    /// formats share one definition of a valid rule.
    private static func recur<W: XMLWalker>(_ v: inout W) throws -> ICalValue? {
        var parts: [(key: String, values: [String])] = []
        var valid = true
        try v.forEachChild { part in
            let name = part.name
            var value = try part.text()
            if name == "until" {
                if let dt = XCalLexical.parseDateTime(value) {
                    value = ValueFormatter.icalString(.dateTime(dt))
                } else if let d = XCalLexical.parseDate(value) {
                    value = ValueFormatter.icalString(.date(d))
                } else {
                    valid = false
                }
            }
            let key = name.asciiUppercased()
            if let i = parts.firstIndex(where: { $0.key == key }) {
                parts[i].values.append(value)
            } else {
                parts.append((key, [value]))
            }
        }
        guard valid else { return nil }
        let text = parts.map { "\($0.key)=\($0.values.joined(separator: ","))" }.joined(separator: ";")
        return ICalValue.parse(text, as: .recur)
    }
}
