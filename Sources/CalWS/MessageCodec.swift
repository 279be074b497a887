import CalendarModel
import SafeXML
import SyncCore
import XCal

/// Why a message could not be read: answered with a SOAP fault.
public struct CalWSDecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { line > 0 ? "line \(line): \(message)" : message }
}

/// SOAP 1.1 envelopes carrying CalWS-SOAP requests and responses, written and read through
/// libxml2 (`SafeXMLReader` refuses DTDs, entities, deep nesting and oversized bodies).
public enum MessageCodec {
    public static let soapNamespace = "http://schemas.xmlsoap.org/soap/envelope/"
    static let ns = CalWSNamespace.uri
    static let x = XCalWriter.namespace
    static let o = CalWSNamespace.outboard
    static let prefixes = [soapNamespace: "S", ns: "C", x: ""]
    /// Those of a message of Outboard's extension, which also declares `O:`.
    static let extensionPrefixes = prefixes.merging([o: "O"]) { a, _ in a }

    // MARK: Envelopes

    /// The envelope bytes of a request (`indent` lays it out for people, as in PROTOCOL.md).
    /// A request's pass number goes in the SOAP header (`O:pass`, Outboard's extension).
    public static func encode(_ request: CalWSRequest, indent: Bool = false) -> [UInt8] {
        let outboard = request.namespace == o || request.pass != nil
        return envelope(
            indent: indent, prefixes: outboard ? extensionPrefixes : prefixes,
            header: request.pass.map { pass in
                { w in
                    w.start("pass", namespace: o)
                    w.attribute("writer", pass.writer, namespace: "")
                    w.text(String(pass.number))
                    w.end()
                }
            }
        ) {
            write(request, to: &$0)
        }
    }

    /// The envelope bytes of a response.
    public static func encode(_ response: CalWSResponse, indent: Bool = false) -> [UInt8] {
        let outboard = response.namespace == o || response.result.error?.namespace == o
        return envelope(indent: indent, prefixes: outboard ? extensionPrefixes : prefixes) {
            write(response, to: &$0)
        }
    }

    /// A SOAP fault: `Client` when the request could not be read, `Server` for the server's own trouble.
    public static func fault(code: String, _ message: String, indent: Bool = false) -> [UInt8] {
        envelope(indent: indent) { s in
            s.start("Fault", namespace: soapNamespace)
            s.element("faultcode", namespace: "", text: "S:" + code)
            s.element("faultstring", namespace: "", text: message)
            s.end()
        }
    }

    /// An envelope whose body `body` writes, streamed straight into bytes.
    static func envelope(
        indent: Bool, prefixes: [String: String] = prefixes, header: ((inout XMLStreamWriter) -> Void)? = nil,
        _ body: (inout XMLStreamWriter) -> Void
    ) -> [UInt8] {
        var w = XMLStreamWriter(prefixes: prefixes, indent: indent)
        w.start("Envelope", namespace: soapNamespace)
        if let header {
            w.start("Header", namespace: soapNamespace)
            header(&w)
            w.end()
        }
        w.start("Body", namespace: soapNamespace)
        body(&w)
        w.end()
        w.end()
        return w.finish()
    }

    /// The body element of an envelope; a SOAP fault is returned as `.fault`.
    public enum Payload {
        case message(XMLElement)
        case fault(code: String, message: String)
    }

    public static func payload(_ bytes: [UInt8], reader: SafeXMLReader = SafeXMLReader()) throws(CalWSDecodeError)
        -> Payload
    {
        try message(bytes, reader: reader) { m in
            if m.name == "Fault", m.namespace == soapNamespace {
                let f = try fault(&m)
                return .fault(code: f.code, message: f.message)
            }
            return .message(try m.element())
        }
    }

    /// Reads a request envelope, streamed: the request is read as libxml2 reads the bytes, and
    /// the calendars it carries go straight into typed trees.
    public static func decodeRequest(_ bytes: [UInt8], reader: SafeXMLReader = SafeXMLReader()) throws(CalWSDecodeError)
        -> CalWSRequest
    {
        var pass: PassStamp?
        var r = try message(
            bytes, reader: reader,
            header: { h in
                guard h.name == "pass", h.namespace == o else { return }
                let line = h.line
                guard let writer = h.attribute("writer"), !writer.isEmpty else {
                    throw CalWSDecodeError(line: line, message: "<O:pass> needs a writer attribute")
                }
                guard let n = Int(try h.text()) else {
                    throw CalWSDecodeError(line: line, message: "<O:pass> must be a whole number")
                }
                pass = PassStamp(writer: writer, number: n)
            }
        ) { m in
            if m.name == "Fault", m.namespace == soapNamespace {
                throw CalWSDecodeError(line: m.line, message: "a request cannot be a SOAP fault")
            }
            return try request(&m, nested: false)
        }
        r.pass = pass
        return r
    }

    /// What `read` makes of the one message in the envelope `bytes`, streamed; every error is a
    /// `CalWSDecodeError` (those of the XML say where).
    /// `header` is called for each element of the SOAP header, if there is one.
    static func message<T>(
        _ bytes: [UInt8], reader: SafeXMLReader, header: (inout XMLCursor) throws -> Void = { _ in },
        _ read: (inout XMLCursor) throws -> T
    ) throws(CalWSDecodeError) -> T {
        do {
            return try XMLCursor.walk(bytes, limits: reader.limits) { root in
                var result: T?
                try body(of: &root, header: header) { result = try read(&$0) }
                return result!
            }
        } catch {
            throw (error as? CalWSDecodeError) ?? CalWSDecodeError(line: 0, message: "\(error)")
        }
    }

    /// Calls `message` with the walker at the one message in the Body of the envelope at `root`.
    static func body<W: XMLWalker>(
        of root: inout W, header: (inout W) throws -> Void = { _ in }, _ message: (inout W) throws -> Void
    ) throws {
        guard root.name == "Envelope", root.namespace == soapNamespace else {
            throw CalWSDecodeError(line: root.line, message: "expected a SOAP 1.1 Envelope, found <\(root.name)>")
        }
        let line = root.line
        var bodies = 0
        var messages = 0
        try root.forEachChild { b in
            if b.name == "Header", b.namespace == soapNamespace, bodies == 0 {
                try b.forEachChild { try header(&$0) }
                return
            }
            guard b.name == "Body", b.namespace == soapNamespace else { return }
            bodies += 1
            guard bodies == 1 else { return }
            try b.forEachChild { m in
                messages += 1
                guard messages == 1 else {
                    throw CalWSDecodeError(line: line, message: "the Envelope needs a Body holding exactly one message")
                }
                try message(&m)
            }
        }
        guard messages == 1 else {
            throw CalWSDecodeError(line: line, message: "the Envelope needs a Body holding exactly one message")
        }
    }

    /// The code and string of the SOAP fault the walker is at.
    static func fault<W: XMLWalker>(_ m: inout W) throws -> (code: String, message: String) {
        var code = ""
        var message = ""
        try m.forEachChild { c in
            if c.name == "faultcode" { code = try c.text() } else if c.name == "faultstring" { message = try c.text() }
        }
        return (code, message)
    }

    // MARK: Requests

    static func text(_ name: String, _ value: String) -> XMLElement { XMLElement(name, namespace: ns, text: value) }

    static func write<S: XMLSink>(_ r: CalWSRequest, to s: inout S) {
        s.start(r.operation, namespace: r.namespace)
        s.attribute("id", String(r.id), namespace: "")
        switch r.body {
        case .getProperties(let href), .fetchItem(let href), .deleteItem(let href):
            s.element("href", namespace: ns, text: href)
        case .calendarQuery(let q):
            s.element("href", namespace: ns, text: q.href)
            s.element("depth", namespace: ns, text: "1")
            s.element(returnWhat(q.allData))
            if let range = q.expand { s.element(rangeElement("expand", range)) }
            s.element(filterElement(q.filter))
        case .freebusyReport(let href, let range):
            s.element("href", namespace: ns, text: href)
            s.element(rangeElement("time-range", range))
        case .reportFreshness(let f):
            s.element("href", namespace: ns, text: f.href)
            s.element("subscription", namespace: o, text: f.subscription)
            s.element("refreshInterval", namespace: o, text: String(f.refreshInterval))
            if let t = f.lastSuccess { s.element("lastSuccess", namespace: o, text: xcalUTC(t)) }
            if let t = f.lastAttempt { s.element("lastAttempt", namespace: o, text: xcalUTC(t)) }
            if let e = f.lastError { s.element("lastError", namespace: o, text: e) }
            if let z = f.timezone { s.element("resourceTimezoneId", namespace: o, text: z) }
        case .calendarMultiget(let href, let hrefs, let allData):
            s.element("href", namespace: ns, text: href)
            s.element(returnWhat(allData))
            s.start("hrefs", namespace: ns)
            for h in hrefs { s.element("href", namespace: ns, text: h) }
            s.end()
        case .addItem(let href, let calendar):
            s.element("href", namespace: ns, text: href)
            XCalWriter.write([calendar], to: &s)
        case .updateItem(let href, let token, let update):
            s.element("href", namespace: ns, text: href)
            s.element("changeToken", namespace: ns, text: token)
            s.element(SelectTree.element(update))
        case .multiOp(let ops):
            s.element("href", namespace: ns, text: "/")
            s.start("operations", namespace: ns)
            for op in ops { write(op, to: &s) }
            s.end()
        }
        s.end()
    }

    /// `allprop`, or the pattern that asks for UID and LAST-MODIFIED of each component.
    static func returnWhat(_ allData: Bool) -> XMLElement {
        if allData { return XMLElement("allprop", namespace: ns) }
        let props = [
            ICalProperty(name: "UID", values: ICalValues()), ICalProperty(name: "LAST-MODIFIED", values: ICalValues()),
        ]
        let comps = ["VEVENT", "VTODO", "VJOURNAL"].map { ICalComponent(name: $0, properties: props) }
        return XCalWriter.document([ICalComponent(name: "VCALENDAR", components: comps)])
    }

    static func filterElement(_ f: QueryFilter) -> XMLElement {
        var outer = XMLElement("compFilter", namespace: ns, children: [.element(XMLElement("vcalendar", namespace: x))])
        switch f {
        case .all:
            break
        case .uid(let uid):
            var match = XMLElement("textMatch", namespace: ns, attributes: [XMLAttribute("collation", "i;octet")])
            match.children = [.text(uid)]
            let prop = XMLElement(
                "propFilter", namespace: ns, children: [.element(XMLElement("uid", namespace: x)), .element(match)])
            outer.append(
                XMLElement(
                    "compFilter", namespace: ns,
                    children: [.element(XMLElement("anyComp", namespace: ns)), .element(prop)]))
        case .timeRange(let start, let end):
            var range = XMLElement("timeRange", namespace: ns)
            if let start { range.append(text("start", xcalUTC(start))) }
            if let end { range.append(text("end", xcalUTC(end))) }
            outer.append(
                XMLElement(
                    "compFilter", namespace: ns,
                    children: [.element(XMLElement("vevent", namespace: x)), .element(range)]))
        }
        return XMLElement("filter", namespace: ns, children: [.element(outer)])
    }

    /// `<C:name><C:start>…</C:start><C:end>…</C:end></C:name>`.
    static func rangeElement(_ name: String, _ range: UTCRange) -> XMLElement {
        XMLElement(
            name, namespace: ns,
            children: [.element(text("start", xcalUTC(range.start))), .element(text("end", xcalUTC(range.end)))])
    }

    static func xcalUTC(_ dt: ICalDateTime) -> String {
        var d = dt
        d.time.isUTC = true
        return XCalWriter.valueElement(.dateTime(d)).text
    }

    static let operations: Set = [
        "getProperties", "fetchItem", "deleteItem", "calendarQuery", "calendarMultiget", "freebusyReport", "addItem",
        "updateItem", "multiOp",
    ]

    static func request<W: XMLWalker>(_ e: inout W, nested: Bool) throws -> CalWSRequest {
        let op = e.name
        let line = e.line
        if e.namespace == o, op == "reportFreshness", !nested { return try freshness(&e) }
        guard e.namespace == ns else { throw fail(line, "<\(op)> is not in the CalWS-SOAP namespace \(ns)") }
        guard operations.contains(op) else { throw fail(line, "unknown operation <\(op)>") }
        guard !(nested && op == "multiOp") else { throw fail(line, "multiOp cannot hold another multiOp") }
        let id = Int(e.attribute("id") ?? "0") ?? 0
        var href: String?
        var token: String?
        var allData = false
        var hrefs: [String] = []
        var calendars: [ICalComponent]?
        var select: XMLElement?
        var filterElement: XMLElement?
        var rangeElement: XMLElement?
        var ops: [CalWSRequest]?
        var diagnostics: [ICalDiagnostic] = []
        try e.forEachChild { c in
            switch (c.namespace, c.name) {
            case (ns, "href"): if href == nil { href = try c.text() }
            case (ns, "changeToken"): if token == nil { token = try c.text() }
            case (ns, "allprop"): allData = true
            case (ns, "hrefs"):
                try c.forEachChild { h in if h.name == "href", h.namespace == ns { hrefs.append(try h.text()) } }
            case (x, "icalendar") where op == "addItem" && calendars == nil:
                let calLine = c.line
                var cals: [ICalComponent] = []
                try c.forEachChild { v in
                    if v.namespace == x { cals.append(try XCalReader.component(&v, &diagnostics)) }
                }
                guard cals.count == 1 else {
                    throw fail(calLine, "<icalendar> in addItem must hold exactly one <vcalendar>")
                }
                calendars = cals
            case (ns, "select") where select == nil: select = try c.element()
            case (ns, "filter") where filterElement == nil: filterElement = try c.element()
            case (ns, "expand") where op == "calendarQuery" && rangeElement == nil: rangeElement = try c.element()
            case (ns, "time-range") where op == "freebusyReport" && rangeElement == nil:
                rangeElement = try c.element()
            case (ns, "operations") where op == "multiOp" && ops == nil:
                var list: [CalWSRequest] = []
                try c.forEachChild { o in list.append(try request(&o, nested: true)) }
                ops = list
            default: break
            }
        }
        func needHref() throws(CalWSDecodeError) -> String {
            guard let href, !href.isEmpty else { throw fail(line, "<\(op)> needs an href") }
            return href
        }
        switch op {
        case "getProperties": return CalWSRequest(id: id, .getProperties(href: try needHref()))
        case "fetchItem": return CalWSRequest(id: id, .fetchItem(href: try needHref()))
        case "deleteItem": return CalWSRequest(id: id, .deleteItem(href: try needHref()))
        case "calendarQuery":
            let query = CalendarQuery(
                href: try needHref(), filter: try filter(filterElement), allData: allData,
                expand: try rangeElement.map { r throws(CalWSDecodeError) in try range(r) })
            return CalWSRequest(id: id, .calendarQuery(query))
        case "freebusyReport":
            guard let rangeElement else { throw fail(line, "<freebusyReport> needs a <time-range> with start and end") }
            return CalWSRequest(id: id, .freebusyReport(href: try needHref(), range: try range(rangeElement)))
        case "calendarMultiget":
            return CalWSRequest(id: id, .calendarMultiget(href: try needHref(), hrefs: hrefs, allData: allData))
        case "addItem":
            guard let calendars else { throw fail(line, "<addItem> needs an xCal <icalendar>") }
            if let d = diagnostics.first { throw CalWSDecodeError(line: d.line, message: d.message) }
            return CalWSRequest(id: id, .addItem(href: try needHref(), calendar: calendars[0]))
        case "updateItem":
            guard let select else { throw fail(line, "<updateItem> needs a <select>") }
            return CalWSRequest(
                id: id,
                .updateItem(href: try needHref(), changeToken: token ?? "", update: try SelectTree.update(from: select))
            )
        default:  // multiOp
            guard let ops else { throw fail(line, "<multiOp> needs <operations>") }
            return CalWSRequest(id: id, .multiOp(ops))
        }
    }

    /// The query filter of a `filter` element (none: every component).
    static func filter(_ filter: XMLElement?) throws(CalWSDecodeError) -> QueryFilter {
        guard let f = filter?.child("compFilter", namespace: ns) else { return .all }
        guard let inner = f.child("compFilter", namespace: ns) else { return .all }
        if let prop = inner.child("propFilter", namespace: ns) {
            guard prop.child("uid", namespace: x) != nil, let match = prop.child("textMatch", namespace: ns) else {
                throw fail(prop, "only a propFilter on UID with a textMatch is supported")
            }
            return .uid(match.text)
        }
        if let range = inner.child("timeRange", namespace: ns) {
            return .timeRange(start: try childTime(range, "start"), end: try childTime(range, "end"))
        }
        throw fail(inner, "unsupported filter: use a UID textMatch or a VEVENT timeRange")
    }

    /// The UTC date-time of `range`'s child `name`, nil when it has none.
    static func childTime(_ range: XMLElement, _ name: String) throws(CalWSDecodeError) -> ICalDateTime? {
        guard let t = range.child(name, namespace: ns) else { return nil }
        return try utcTime(t, what: "\(range.name) \(name)")
    }

    /// The element's text as a UTC date-time; `what` names it in the error.
    static func utcTime(_ t: XMLElement, what: String) throws(CalWSDecodeError) -> ICalDateTime {
        var diagnostics: [ICalDiagnostic] = []
        let wrapped = XMLElement(
            "dtstart", namespace: x, children: [.element(XMLElement("date-time", namespace: x, text: t.text))])
        guard case .dateTime(let dt)? = XCalReader.property(wrapped, &diagnostics).value, dt.isUTC else {
            throw fail(t, "\(what) must be a UTC date-time such as 2026-01-05T00:00:00Z")
        }
        return dt
    }

    /// An `expand` or `time-range` element: both ends required, start before end.
    static func range(_ e: XMLElement) throws(CalWSDecodeError) -> UTCRange {
        guard let start = try childTime(e, "start"), let end = try childTime(e, "end") else {
            throw fail(e, "<\(e.name)> needs both a start and an end")
        }
        guard start < end else { throw fail(e, "<\(e.name)> must start before it ends") }
        return UTCRange(start: start, end: end)
    }

    /// Outboard's `reportFreshness` (its children in `CalWSNamespace.outboard`, the href in CalWS's).
    static func freshness<W: XMLWalker>(_ e: inout W) throws -> CalWSRequest {
        let line = e.line
        let id = Int(e.attribute("id") ?? "0") ?? 0
        let element = try e.element()
        func child(_ name: String) -> XMLElement? { element.child(name, namespace: o) }
        guard let href = element.child("href", namespace: ns)?.text, !href.isEmpty else {
            throw fail(line, "<reportFreshness> needs an href")
        }
        guard let subscription = child("subscription")?.text, !subscription.isEmpty else {
            throw fail(line, "<reportFreshness> needs a <subscription>")
        }
        guard let interval = child("refreshInterval").flatMap({ Int($0.text) }), interval > 0 else {
            throw fail(line, "<reportFreshness> needs a <refreshInterval> of whole seconds above 0")
        }
        var f = CollectionFreshness(href: href, subscription: subscription, refreshInterval: interval)
        if let t = child("lastSuccess") { f.lastSuccess = try utcTime(t, what: "lastSuccess") }
        if let t = child("lastAttempt") { f.lastAttempt = try utcTime(t, what: "lastAttempt") }
        f.lastError = child("lastError")?.text
        f.timezone = child("resourceTimezoneId")?.text
        if f.timezone?.isEmpty == true { f.timezone = nil }
        return CalWSRequest(id: id, .reportFreshness(f))
    }

    static func fail(_ e: XMLElement, _ message: String) -> CalWSDecodeError {
        fail(e.line, message)
    }

    static func fail(_ line: Int, _ message: String) -> CalWSDecodeError {
        CalWSDecodeError(line: line, message: message)
    }
}
