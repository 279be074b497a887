import CalendarModel
import SafeXML

/// Writes typed iCalendar trees as xCal (RFC 6321).
public enum XCalWriter {
    /// The xCal namespace, `urn:ietf:params:xml:ns:icalendar-2.0` (RFC 6321 §7.1).
    public static let namespace = "urn:ietf:params:xml:ns:icalendar-2.0"

    /// The xCal document for a stream of VCALENDARs, as UTF-8 XML.
    public static func write(_ calendars: [ICalComponent]) -> [UInt8] {
        XMLSerializer.serialize(document(calendars), prefixes: [namespace: ""])
    }

    /// The `icalendar` root element holding one `vcalendar` per calendar.
    public static func document(_ calendars: [ICalComponent]) -> XMLElement {
        XMLElement("icalendar", namespace: namespace, children: calendars.map { .element(element(for: $0)) })
    }

    /// A component element: `properties` (when there are any), then `components` (when there are any).
    public static func element(for c: ICalComponent) -> XMLElement {
        var e = XMLElement(c.name.lowercased(), namespace: namespace)
        if !c.properties.isEmpty {
            e.append(XMLElement("properties", namespace: namespace, children: c.properties.map { .element(xmlExtension($0) ?? element(for: $0)) }))
        }
        if !c.components.isEmpty {
            e.append(XMLElement("components", namespace: namespace, children: c.components.map { .element(element(for: $0)) }))
        }
        return e
    }

    /// The element an `XML` property holds (RFC 6321 §4.2), written in place of the property: its
    /// TEXT value read as XML (safely: no DTD, no entities, no network), when that is one element
    /// outside the xCal namespace. Anything else (no value, not XML, parameters, an xCal element)
    /// is written as an ordinary `xml` property, which reads back as it was.
    static func xmlExtension(_ p: ICalProperty) -> XMLElement? {
        guard p.name == "XML", p.parameters.isEmpty, p.values.count == 1, case .text(let text) = p.values[0],
              let e = try? SafeXMLReader().parse(Array(text.utf8)), !e.namespace.isEmpty, e.namespace != namespace
        else { return nil }
        return e
    }

    /// A property element: `parameters` when there are any (RFC 6321 §3.5: never an empty one),
    /// then one value element per value. GEO and REQUEST-STATUS hold their parts directly.
    public static func element(for p: ICalProperty) -> XMLElement {
        var e = XMLElement(p.name.lowercased(), namespace: namespace)
        if !p.parameters.isEmpty {
            e.append(XMLElement("parameters", namespace: namespace, children: p.parameters.map { .element(element(for: $0)) }))
        }
        for v in p.values {
            switch v {
            case .geo(let g):
                e.append(text("latitude", ValueFormatter.formatFloat(g.latitude)))
                e.append(text("longitude", ValueFormatter.formatFloat(g.longitude)))
            case .requestStatus(let r):
                e.append(text("code", r.code))
                e.append(text("description", r.description))
                if let d = r.data { e.append(text("data", d)) }
            default:
                e.append(valueElement(v))
            }
        }
        return e
    }

    /// A parameter element holding one value element per value, typed as RFC 6321 Appendix A types it.
    public static func element(for param: ICalParameter) -> XMLElement {
        let type = PropertyTypes.parameterType(of: param.name)
        var e = XMLElement(param.name.lowercased(), namespace: namespace)
        for v in param.values {
            let shown = type == .boolean ? v.lowercased() : v
            e.append(text(type.rawValue, shown))
        }
        return e
    }

    /// The value element of one value (`<date-time>2008-02-05T19:12:24Z</date-time>`).
    public static func valueElement(_ v: ICalValue) -> XMLElement {
        switch v {
        case .text(let s), .uri(let s), .calAddress(let s), .binary(let s), .unknown(let s):
            return text(v.type.rawValue, s)
        case .boolean(let b): return text("boolean", b ? "true" : "false")
        case .date(let d): return text("date", XCalLexical.date(d))
        case .dateTime(let dt): return text("date-time", XCalLexical.dateTime(dt))
        case .time(let t): return text("time", XCalLexical.time(t))
        case .duration(let d): return text("duration", ValueFormatter.durationString(d))
        case .float(let f): return text("float", ValueFormatter.formatFloat(f))
        case .integer(let i): return text("integer", String(i))
        case .utcOffset(let o): return text("utc-offset", XCalLexical.utcOffset(o))
        case .period(let p):
            var e = XMLElement("period", namespace: namespace)
            e.append(text("start", XCalLexical.dateTime(p.start)))
            switch p.end {
            case .dateTime(let end): e.append(text("end", XCalLexical.dateTime(end)))
            case .duration(let d): e.append(text("duration", ValueFormatter.durationString(d)))
            }
            return e
        case .recur(let r): return recurElement(r)
        case .geo, .requestStatus:
            // Structured values live directly in their property element; see element(for:).
            return text("unknown", ValueFormatter.icalString(v))
        }
    }

    /// RECUR in RFC 6321 Appendix A order: freq, until/count, interval, BYxxx, wkst; one element
    /// per list item; parts this model does not know follow, named in lowercase.
    static func recurElement(_ r: ICalRecur) -> XMLElement {
        var e = XMLElement("recur", namespace: namespace)
        e.append(text("freq", r.freq))
        switch r.until {
        case .date(let d)?: e.append(text("until", XCalLexical.date(d)))
        case .dateTime(let dt)?: e.append(text("until", XCalLexical.dateTime(dt)))
        case nil: break
        }
        if let c = r.count { e.append(text("count", String(c))) }
        if let i = r.interval { e.append(text("interval", String(i))) }
        for v in r.bySecond { e.append(text("bysecond", String(v))) }
        for v in r.byMinute { e.append(text("byminute", String(v))) }
        for v in r.byHour { e.append(text("byhour", String(v))) }
        for v in r.byDay { e.append(text("byday", v)) }
        for v in r.byMonthDay { e.append(text("bymonthday", String(v))) }
        for v in r.byYearDay { e.append(text("byyearday", String(v))) }
        for v in r.byWeekNo { e.append(text("byweekno", String(v))) }
        for v in r.byMonth { e.append(text("bymonth", String(v))) }
        for v in r.bySetPos { e.append(text("bysetpos", String(v))) }
        if let w = r.wkst { e.append(text("wkst", w)) }
        for x in r.extensions { e.append(text(x.name.lowercased(), x.value)) }
        return e
    }

    private static func text(_ name: String, _ value: String) -> XMLElement {
        XMLElement(name, namespace: namespace, text: value)
    }
}
