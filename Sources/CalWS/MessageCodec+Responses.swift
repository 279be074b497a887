import CalendarModel
import SafeXML
import XCal

extension MessageCodec {
    /// Reads a response envelope, streamed like a request (a SOAP fault is an error carrying its
    /// code and string).
    public static func decodeResponse(_ bytes: [UInt8], reader: SafeXMLReader = SafeXMLReader())
        throws(CalWSDecodeError) -> CalWSResponse
    {
        try message(bytes, reader: reader) { m in
            if m.name == "Fault", m.namespace == soapNamespace {
                let f = try fault(&m)
                throw CalWSDecodeError(line: 0, message: "SOAP fault \(f.code): \(f.message)")
            }
            return try response(&m)
        }
    }

    static func write<S: XMLSink>(_ r: CalWSResponse, to s: inout S) {
        func text(_ name: String, _ value: String) { s.element(name, namespace: ns, text: value) }
        s.start(r.elementName, namespace: r.namespace)
        s.attribute("id", String(r.id), namespace: "")
        text("status", r.result.status.rawValue)
        if let m = r.result.message { text("message", m) }
        if let err = r.result.error {
            s.start("errorResponse", namespace: ns)
            s.start(err.elementName, namespace: err.namespace)
            switch err {
            case .invalidFilter(let detail): text("detail", detail)
            case .uidConflict(let href): text("href", href)
            default: break
            }
            s.end()
            s.end()
        }
        switch r.body {
        case .getProperties(let p?):
            text("href", p.href)
            if let name = p.displayName { text("displayName", name) }
            if let lm = p.lastModified { text("lastModifiedDateTime", xcalUTC(lm)) }
            s.start("resourceType", namespace: ns)
            s.start(p.resourceType, namespace: ns)
            s.end()
            s.end()
            if let zone = p.timezone { text("resourceTimezoneId", zone) }
            s.start("supportedFeatures", namespace: ns)
            for f in p.supportedFeatures {
                s.start(f, namespace: ns)
                s.end()
            }
            s.end()
        case .getProperties(nil), .deleteItem, .reportFreshness, .freebusyReport(nil):
            break
        case .freebusyReport(let calendar?):
            XCalWriter.write([calendar], to: &s)
        case .calendarQuery(let entities):
            for en in entities {
                s.start("response", namespace: ns)
                text("href", en.href)
                text("changeToken", en.changeToken)
                if let cal = en.calendar {
                    s.start("propstat", namespace: ns)
                    text("status", "OK")
                    s.start("prop", namespace: ns)
                    s.start("calendar-data", namespace: ns)
                    XCalWriter.write([cal], to: &s)
                    s.end()
                    s.end()
                    s.end()
                }
                s.end()
            }
        case .fetchItem(let en):
            if let en {
                text("changeToken", en.changeToken)
                text("href", en.href)
                if let cal = en.calendar { XCalWriter.write([cal], to: &s) }
            }
        case .addItem(let href, let token):
            if let href { text("href", href) }
            if let token { text("changeToken", token) }
        case .updateItem(let token):
            if let token { text("changeToken", token) }
        case .multiOp(let responses):
            s.start("responses", namespace: ns)
            for inner in responses { write(inner, to: &s) }
            s.end()
        }
        s.end()
    }

    static func response<W: XMLWalker>(_ e: inout W) throws -> CalWSResponse {
        let name = e.name
        let line = e.line
        guard e.namespace == ns || (e.namespace == o && name == "reportFreshnessResponse") else {
            throw fail(line, "<\(name)> is not in the CalWS-SOAP namespace")
        }
        let id = Int(e.attribute("id") ?? "0") ?? 0
        let parts = try ResponseParts(&e, name: name)
        guard let statusText = parts.status, let code = CalWSStatus(rawValue: statusText) else {
            throw fail(
                line,
                "<\(name)> needs a status (one of \(CalWSStatus.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        var result = CalWSResult(status: code, message: parts.message)
        if let er = parts.error { result.error = try errorKind(er) }
        let body = try self.body(of: name, parts, line: line)
        if let d = parts.diagnostics.first { throw CalWSDecodeError(line: d.line, message: d.message) }
        return CalWSResponse(id: id, result: result, body)
    }

    /// An `errorResponse`'s element, as it was read.
    struct ErrorElement {
        var name: String
        var line: Int
        var detail: String?
        var href: String?
    }

    static func errorKind(_ er: ErrorElement) throws(CalWSDecodeError) -> CalWSErrorKind {
        switch er.name {
        case "invalidFilter": return .invalidFilter(detail: er.detail ?? "")
        case "uidConflict": return .uidConflict(href: er.href ?? "")
        default:
            guard let kind = CalWSErrorKind.simple.first(where: { $0.elementName == er.name }) else {
                throw fail(er.line, "unknown CalWS error element <\(er.name)>")
            }
            return kind
        }
    }

    /// The body of the response element `name` from its parts.
    static func body(of name: String, _ parts: ResponseParts, line: Int) throws(CalWSDecodeError)
        -> CalWSResponse.Body
    {
        switch name {
        case "getPropertiesResponse":
            guard let href = parts.href else { return .getProperties(nil) }
            var p = CollectionProperties(href: href, displayName: parts.displayName)
            p.resourceType = parts.resourceType ?? "collection"
            p.supportedFeatures = parts.features
            p.timezone = parts.timezone
            return .getProperties(p)
        case "calendarQueryResponse": return .calendarQuery(parts.entities)
        case "fetchItemResponse":
            return .fetchItem(
                parts.href.map { EntityInfo(href: $0, changeToken: parts.token ?? "", calendar: parts.calendar) })
        case "addItemResponse": return .addItem(href: parts.href, changeToken: parts.token)
        case "updateItemResponse": return .updateItem(changeToken: parts.token)
        case "deleteItemResponse": return .deleteItem
        case "multiOpResponse": return .multiOp(parts.inner ?? [])
        case "freebusyReportResponse": return .freebusyReport(parts.calendar)
        case "reportFreshnessResponse": return .reportFreshness
        default: throw fail(line, "unknown response <\(name)>")
        }
    }

    /// What a response element holds, each child read once (the first of each kind counts).
    struct ResponseParts {
        var status: String?
        var message: String?
        var href: String?
        var token: String?
        var displayName: String?
        var timezone: String?
        var error: ErrorElement?
        var resourceType: String?
        var features: [String] = []
        var entities: [EntityInfo] = []
        var calendar: ICalComponent?
        var inner: [CalWSResponse]?
        var diagnostics: [ICalDiagnostic] = []

        init<W: XMLWalker>(_ e: inout W, name: String) throws {
            try e.forEachChild { c in
                switch (c.namespace, c.name) {
                case (ns, "status") where status == nil: status = try c.text()
                case (ns, "message") where message == nil: message = try c.text()
                case (ns, "href") where href == nil: href = try c.text()
                case (ns, "changeToken") where token == nil: token = try c.text()
                case (ns, "displayName") where displayName == nil: displayName = try c.text()
                case (ns, "resourceTimezoneId") where timezone == nil: timezone = try c.text()
                case (ns, "errorResponse") where error == nil:
                    try c.forEachChild { er in if error == nil { error = try Self.error(&er) } }
                case (ns, "resourceType"):
                    try c.forEachChild { t in if resourceType == nil { resourceType = t.name } }
                case (ns, "supportedFeatures"):
                    try c.forEachChild { features.append($0.name) }
                case (ns, "response") where name == "calendarQueryResponse":
                    entities.append(try entity(&c))
                case (x, "icalendar")
                where (name == "fetchItemResponse" || name == "freebusyReportResponse") && calendar == nil:
                    calendar = try firstCalendar(&c)
                case (ns, "responses") where name == "multiOpResponse" && inner == nil:
                    var list: [CalWSResponse] = []
                    try c.forEachChild { list.append(try response(&$0)) }
                    inner = list
                default:
                    break
                }
            }
        }

        static func error<W: XMLWalker>(_ er: inout W) throws -> ErrorElement {
            var element = ErrorElement(name: er.name, line: er.line)
            try er.forEachChild { d in
                guard d.namespace == ns else { return }
                if d.name == "detail" {
                    element.detail = try d.text()
                } else if d.name == "href" {
                    element.href = try d.text()
                }
            }
            return element
        }

        /// The first calendar of an `icalendar` element.
        mutating func firstCalendar<W: XMLWalker>(_ ical: inout W) throws -> ICalComponent? {
            var first: ICalComponent?
            try ical.forEachChild { c in if first == nil { first = try XCalReader.component(&c, &diagnostics) } }
            return first
        }

        /// One entity of a query's answer: href, changeToken and propstat/prop/calendar-data.
        mutating func entity<W: XMLWalker>(_ r: inout W) throws -> EntityInfo {
            var e = EntityInfo(href: "", changeToken: "", calendar: nil)
            var sawHref = false
            var sawToken = false
            try r.forEachChild { c in
                guard c.namespace == ns else { return }
                switch c.name {
                case "href" where !sawHref:
                    e.href = try c.text()
                    sawHref = true
                case "changeToken" where !sawToken:
                    e.changeToken = try c.text()
                    sawToken = true
                case "propstat":
                    try c.forEachChild { p in
                        guard p.namespace == ns, p.name == "prop" else { return }
                        try p.forEachChild { d in
                            guard d.namespace == ns, d.name == "calendar-data" else { return }
                            try d.forEachChild { i in
                                if i.namespace == x, i.name == "icalendar", e.calendar == nil {
                                    e.calendar = try firstCalendar(&i)
                                }
                            }
                        }
                    }
                default: break
                }
            }
            return e
        }
    }
}
