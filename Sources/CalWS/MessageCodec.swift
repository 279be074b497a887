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
    static let prefixes = [soapNamespace: "S", ns: "C", x: ""]

    // MARK: Envelopes

    /// The envelope bytes of a request (`indent` lays it out for people, as in PROTOCOL.md).
    public static func encode(_ request: CalWSRequest, indent: Bool = false) -> [UInt8] {
        XMLSerializer.serialize(envelope(element(request)), prefixes: prefixes, indent: indent)
    }

    /// The envelope bytes of a response.
    public static func encode(_ response: CalWSResponse, indent: Bool = false) -> [UInt8] {
        XMLSerializer.serialize(envelope(element(response)), prefixes: prefixes, indent: indent)
    }

    /// A SOAP fault: `Client` when the request could not be read, `Server` for the server's own trouble.
    public static func fault(code: String, _ message: String, indent: Bool = false) -> [UInt8] {
        var f = XMLElement("Fault", namespace: soapNamespace)
        f.append(XMLElement("faultcode", namespace: "", text: "S:" + code))
        f.append(XMLElement("faultstring", namespace: "", text: message))
        return XMLSerializer.serialize(envelope(f), prefixes: prefixes, indent: indent)
    }

    static func envelope(_ body: XMLElement) -> XMLElement {
        XMLElement("Envelope", namespace: soapNamespace, children: [
            .element(XMLElement("Body", namespace: soapNamespace, children: [.element(body)])),
        ])
    }

    /// The body element of an envelope; a SOAP fault is returned as `.fault`.
    public enum Payload {
        case message(XMLElement)
        case fault(code: String, message: String)
    }

    public static func payload(_ bytes: [UInt8], reader: SafeXMLReader = SafeXMLReader()) throws(CalWSDecodeError) -> Payload {
        let root: XMLElement
        do { root = try reader.parse(bytes) } catch { throw CalWSDecodeError(line: 0, message: "\(error)") }
        guard root.name == "Envelope", root.namespace == soapNamespace else {
            throw CalWSDecodeError(line: root.line, message: "expected a SOAP 1.1 Envelope, found <\(root.name)>")
        }
        guard let body = root.child("Body", namespace: soapNamespace), body.elements.count == 1 else {
            throw CalWSDecodeError(line: root.line, message: "the Envelope needs a Body holding exactly one message")
        }
        let m = body.elements[0]
        if m.name == "Fault", m.namespace == soapNamespace {
            return .fault(code: m.child("faultcode")?.text ?? "", message: m.child("faultstring")?.text ?? "")
        }
        return .message(m)
    }

    /// Reads a request envelope.
    public static func decodeRequest(_ bytes: [UInt8], reader: SafeXMLReader = SafeXMLReader()) throws(CalWSDecodeError) -> CalWSRequest {
        guard case .message(let m) = try payload(bytes, reader: reader) else {
            throw CalWSDecodeError(line: 0, message: "a request cannot be a SOAP fault")
        }
        return try request(m, nested: false)
    }

    // MARK: Requests

    static func text(_ name: String, _ value: String) -> XMLElement { XMLElement(name, namespace: ns, text: value) }

    static func element(_ r: CalWSRequest) -> XMLElement {
        var e = XMLElement(r.operation, namespace: ns, attributes: [XMLAttribute("id", String(r.id))])
        switch r.body {
        case .getProperties(let href), .fetchItem(let href), .deleteItem(let href):
            e.append(text("href", href))
        case .calendarQuery(let q):
            e.append(text("href", q.href))
            e.append(text("depth", "1"))
            e.append(returnWhat(q.allData))
            e.append(filterElement(q.filter))
        case .calendarMultiget(let href, let hrefs, let allData):
            e.append(text("href", href))
            e.append(returnWhat(allData))
            e.append(XMLElement("hrefs", namespace: ns, children: hrefs.map { .element(text("href", $0)) }))
        case .addItem(let href, let calendar):
            e.append(text("href", href))
            e.append(XCalWriter.document([calendar]))
        case .updateItem(let href, let token, let update):
            e.append(text("href", href))
            e.append(text("changeToken", token))
            e.append(SelectTree.element(update))
        case .multiOp(let ops):
            e.append(text("href", "/"))
            e.append(XMLElement("operations", namespace: ns, children: ops.map { .element(element($0)) }))
        }
        return e
    }

    /// `allprop`, or the pattern that asks for UID and LAST-MODIFIED of each component.
    static func returnWhat(_ allData: Bool) -> XMLElement {
        if allData { return XMLElement("allprop", namespace: ns) }
        let props = [ICalProperty(name: "UID", values: ICalValues()), ICalProperty(name: "LAST-MODIFIED", values: ICalValues())]
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
            let prop = XMLElement("propFilter", namespace: ns, children: [.element(XMLElement("uid", namespace: x)), .element(match)])
            outer.append(XMLElement("compFilter", namespace: ns, children: [.element(XMLElement("anyComp", namespace: ns)), .element(prop)]))
        case .timeRange(let start, let end):
            var range = XMLElement("timeRange", namespace: ns)
            if let start { range.append(text("start", xcalUTC(start))) }
            if let end { range.append(text("end", xcalUTC(end))) }
            outer.append(XMLElement("compFilter", namespace: ns, children: [.element(XMLElement("vevent", namespace: x)), .element(range)]))
        }
        return XMLElement("filter", namespace: ns, children: [.element(outer)])
    }

    static func xcalUTC(_ dt: ICalDateTime) -> String {
        var d = dt
        d.time.isUTC = true
        return XCalWriter.valueElement(.dateTime(d)).text
    }

    static func request(_ e: XMLElement, nested: Bool) throws(CalWSDecodeError) -> CalWSRequest {
        guard e.namespace == ns else { throw fail(e, "<\(e.name)> is not in the CalWS-SOAP namespace \(ns)") }
        let id = Int(e.attribute("id") ?? "0") ?? 0
        let href = e.child("href", namespace: ns)?.text
        func needHref() throws(CalWSDecodeError) -> String {
            guard let href, !href.isEmpty else { throw fail(e, "<\(e.name)> needs an href") }
            return href
        }
        switch e.name {
        case "getProperties": return CalWSRequest(id: id, .getProperties(href: try needHref()))
        case "fetchItem": return CalWSRequest(id: id, .fetchItem(href: try needHref()))
        case "deleteItem": return CalWSRequest(id: id, .deleteItem(href: try needHref()))
        case "calendarQuery":
            let allData = e.child("allprop", namespace: ns) != nil
            return CalWSRequest(id: id, .calendarQuery(CalendarQuery(href: try needHref(), filter: try filter(e), allData: allData)))
        case "calendarMultiget":
            let hrefs = e.child("hrefs", namespace: ns)?.children("href", namespace: ns).map(\.text) ?? []
            return CalWSRequest(id: id, .calendarMultiget(href: try needHref(), hrefs: hrefs, allData: e.child("allprop", namespace: ns) != nil))
        case "addItem":
            guard let cal = e.child("icalendar", namespace: x) else { throw fail(e, "<addItem> needs an xCal <icalendar>") }
            var diagnostics: [ICalDiagnostic] = []
            let cals = cal.elements.filter { $0.namespace == x }.map { XCalReader.component($0, &diagnostics) }
            guard cals.count == 1 else { throw fail(cal, "<icalendar> in addItem must hold exactly one <vcalendar>") }
            if let d = diagnostics.first { throw CalWSDecodeError(line: d.line, message: d.message) }
            return CalWSRequest(id: id, .addItem(href: try needHref(), calendar: cals[0]))
        case "updateItem":
            let token = e.child("changeToken", namespace: ns)?.text ?? ""
            guard let select = e.child("select", namespace: ns) else { throw fail(e, "<updateItem> needs a <select>") }
            return CalWSRequest(id: id, .updateItem(href: try needHref(), changeToken: token, update: try SelectTree.update(from: select)))
        case "multiOp":
            guard !nested else { throw fail(e, "multiOp cannot hold another multiOp") }
            guard let ops = e.child("operations", namespace: ns) else { throw fail(e, "<multiOp> needs <operations>") }
            var requests: [CalWSRequest] = []
            for op in ops.elements { requests.append(try request(op, nested: true)) }
            return CalWSRequest(id: id, .multiOp(requests))
        default:
            throw fail(e, "unknown operation <\(e.name)>")
        }
    }

    static func filter(_ e: XMLElement) throws(CalWSDecodeError) -> QueryFilter {
        guard let f = e.child("filter", namespace: ns)?.child("compFilter", namespace: ns) else { return .all }
        guard let inner = f.child("compFilter", namespace: ns) else { return .all }
        if let prop = inner.child("propFilter", namespace: ns) {
            guard prop.child("uid", namespace: x) != nil, let match = prop.child("textMatch", namespace: ns) else {
                throw fail(prop, "only a propFilter on UID with a textMatch is supported")
            }
            return .uid(match.text)
        }
        if let range = inner.child("timeRange", namespace: ns) {
            func time(_ name: String) throws(CalWSDecodeError) -> ICalDateTime? {
                guard let t = range.child(name, namespace: ns) else { return nil }
                var diagnostics: [ICalDiagnostic] = []
                let wrapped = XMLElement("dtstart", namespace: x, children: [.element(XMLElement("date-time", namespace: x, text: t.text))])
                guard case .dateTime(let dt)? = XCalReader.property(wrapped, &diagnostics).value, dt.isUTC else {
                    throw fail(t, "timeRange \(name) must be a UTC date-time such as 2026-01-05T00:00:00Z")
                }
                return dt
            }
            return .timeRange(start: try time("start"), end: try time("end"))
        }
        throw fail(inner, "unsupported filter: use a UID textMatch or a VEVENT timeRange")
    }

    static func fail(_ e: XMLElement, _ message: String) -> CalWSDecodeError {
        CalWSDecodeError(line: e.line, message: message)
    }
}
