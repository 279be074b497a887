import CalendarModel
import SafeXML

/// Writes typed iCalendar trees as xCal (RFC 6321).
public enum XCalWriter {
    /// The xCal namespace, `urn:ietf:params:xml:ns:icalendar-2.0` (RFC 6321 §7.1).
    public static let namespace = "urn:ietf:params:xml:ns:icalendar-2.0"

    /// The xCal document for a stream of VCALENDARs, as UTF-8 XML.
    public static func write(_ calendars: [ICalComponent]) -> [UInt8] {
        var w = XMLStreamWriter(prefixes: [namespace: ""])
        write(calendars, to: &w)
        return w.finish()
    }

    /// The `icalendar` root element holding one `vcalendar` per calendar.
    public static func document(_ calendars: [ICalComponent]) -> XMLElement {
        XMLTreeBuilder.build { write(calendars, to: &$0) }
    }

    /// A component's element.
    public static func element(for c: ICalComponent) -> XMLElement {
        XMLTreeBuilder.build { write(c, to: &$0) }
    }

    /// A property's element.
    public static func element(for p: ICalProperty) -> XMLElement {
        XMLTreeBuilder.build { write(p, to: &$0) }
    }

    /// A parameter's element.
    public static func element(for param: ICalParameter) -> XMLElement {
        XMLTreeBuilder.build { write(param, to: &$0) }
    }

    /// The value element of one value (`<date-time>2008-02-05T19:12:24Z</date-time>`).
    public static func valueElement(_ v: ICalValue) -> XMLElement {
        XMLTreeBuilder.build { write(v, to: &$0) }
    }

    /// The `icalendar` element holding one `vcalendar` per calendar. (Specialized here for the
    /// stream writer, which other modules pass: a generic call from there would go through the
    /// protocol for every element.)
    @_specialize(where S == XMLStreamWriter)
    public static func write<S: XMLSink>(_ calendars: [ICalComponent], to s: inout S) {
        s.start("icalendar", namespace: namespace)
        for c in calendars { write(c, to: &s) }
        s.end()
    }

    /// A component element: `properties` (when there are any), then `components` (when there are any).
    /// A VTIMEZONE is written once per tree and repeated after (every item of a feed carries the
    /// same few zones, each larger than the event).
    public static func write<S: XMLSink>(_ c: ICalComponent, to s: inout S) {
        if c.name == "VTIMEZONE", let key = c.storageKey {
            s.repeating(key, owner: c) { element(c, to: &$0) }
        } else {
            element(c, to: &s)
        }
    }

    private static func element<S: XMLSink>(_ c: ICalComponent, to s: inout S) {
        s.start(c.name.asciiLowercased(), namespace: namespace)
        if !c.properties.isEmpty {
            s.start("properties", namespace: namespace)
            for p in c.properties {
                if let e = xmlExtension(p) { s.element(e) } else { write(p, to: &s) }
            }
            s.end()
        }
        if !c.components.isEmpty {
            s.start("components", namespace: namespace)
            for sub in c.components { write(sub, to: &s) }
            s.end()
        }
        s.end()
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
    public static func write<S: XMLSink>(_ p: ICalProperty, to s: inout S) {
        s.start(p.name.asciiLowercased(), namespace: namespace)
        if !p.parameters.isEmpty {
            s.start("parameters", namespace: namespace)
            for param in p.parameters { write(param, to: &s) }
            s.end()
        }
        for v in p.values {
            switch v {
            case .geo(let g):
                s.element("latitude", namespace: namespace, text: ValueFormatter.formatFloat(g.latitude))
                s.element("longitude", namespace: namespace, text: ValueFormatter.formatFloat(g.longitude))
            case .requestStatus(let r):
                s.element("code", namespace: namespace, text: r.code)
                s.element("description", namespace: namespace, text: r.description)
                if let d = r.data { s.element("data", namespace: namespace, text: d) }
            default:
                write(v, to: &s)
            }
        }
        s.end()
    }

    /// A parameter element holding one value element per value, typed as RFC 6321 Appendix A types it.
    public static func write<S: XMLSink>(_ param: ICalParameter, to s: inout S) {
        let type = PropertyTypes.parameterType(of: param.name)
        s.start(param.name.asciiLowercased(), namespace: namespace)
        for v in param.values {
            s.element(type.rawValue, namespace: namespace, text: type == .boolean ? v.asciiLowercased() : v)
        }
        s.end()
    }

    /// The value element of one value.
    public static func write<S: XMLSink>(_ v: ICalValue, to s: inout S) {
        func text(_ name: String, _ value: String) { s.element(name, namespace: namespace, text: value) }
        switch v {
        case .text(let t), .uri(let t), .calAddress(let t), .binary(let t), .unknown(let t):
            text(v.type.rawValue, t)
        case .boolean(let b): text("boolean", b ? "true" : "false")
        case .date(let d): text("date", XCalLexical.date(d))
        case .dateTime(let dt): text("date-time", XCalLexical.dateTime(dt))
        case .time(let t): text("time", XCalLexical.time(t))
        case .duration(let d): text("duration", ValueFormatter.durationString(d))
        case .float(let f): text("float", ValueFormatter.formatFloat(f))
        case .integer(let i): text("integer", String(i))
        case .utcOffset(let o): text("utc-offset", XCalLexical.utcOffset(o))
        case .period(let p):
            s.start("period", namespace: namespace)
            text("start", XCalLexical.dateTime(p.start))
            switch p.end {
            case .dateTime(let end): text("end", XCalLexical.dateTime(end))
            case .duration(let d): text("duration", ValueFormatter.durationString(d))
            }
            s.end()
        case .recur(let r): write(r, to: &s)
        case .geo, .requestStatus:
            // Structured values live directly in their property element; see write(_:to:) for properties.
            text("unknown", ValueFormatter.icalString(v))
        }
    }

    /// RECUR in RFC 6321 Appendix A order: freq, until/count, interval, BYxxx, wkst; one element
    /// per list item; parts this model does not know follow, named in lowercase.
    static func write<S: XMLSink>(_ r: ICalRecur, to s: inout S) {
        func text(_ name: String, _ value: String) { s.element(name, namespace: namespace, text: value) }
        s.start("recur", namespace: namespace)
        text("freq", r.freq)
        switch r.until {
        case .date(let d)?: text("until", XCalLexical.date(d))
        case .dateTime(let dt)?: text("until", XCalLexical.dateTime(dt))
        case nil: break
        }
        if let c = r.count { text("count", String(c)) }
        if let i = r.interval { text("interval", String(i)) }
        for v in r.bySecond { text("bysecond", String(v)) }
        for v in r.byMinute { text("byminute", String(v)) }
        for v in r.byHour { text("byhour", String(v)) }
        for v in r.byDay { text("byday", v) }
        for v in r.byMonthDay { text("bymonthday", String(v)) }
        for v in r.byYearDay { text("byyearday", String(v)) }
        for v in r.byWeekNo { text("byweekno", String(v)) }
        for v in r.byMonth { text("bymonth", String(v)) }
        for v in r.bySetPos { text("bysetpos", String(v)) }
        if let w = r.wkst { text("wkst", w) }
        for x in r.extensions { text(x.name.asciiLowercased(), x.value) }
        s.end()
    }
}
