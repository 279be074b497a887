import CalendarModel
import SafeXML
import XCal

extension MessageCodec {
    /// Reads a response envelope (a SOAP fault is an error carrying its code and string).
    public static func decodeResponse(_ bytes: [UInt8], reader: SafeXMLReader = SafeXMLReader()) throws(CalWSDecodeError) -> CalWSResponse {
        switch try payload(bytes, reader: reader) {
        case .fault(let code, let message):
            throw CalWSDecodeError(line: 0, message: "SOAP fault \(code): \(message)")
        case .message(let m):
            return try response(m)
        }
    }

    static func write<S: XMLSink>(_ r: CalWSResponse, to s: inout S) {
        func text(_ name: String, _ value: String) { s.element(name, namespace: ns, text: value) }
        s.start(r.elementName, namespace: ns)
        s.attribute("id", String(r.id), namespace: "")
        text("status", r.result.status.rawValue)
        if let m = r.result.message { text("message", m) }
        if let err = r.result.error {
            s.start("errorResponse", namespace: ns)
            s.start(err.elementName, namespace: ns)
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
            s.start("supportedFeatures", namespace: ns)
            for f in p.supportedFeatures { s.start(f, namespace: ns); s.end() }
            s.end()
        case .getProperties(nil), .deleteItem:
            break
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

    static func response(_ e: XMLElement) throws(CalWSDecodeError) -> CalWSResponse {
        guard e.namespace == ns else { throw fail(e, "<\(e.name)> is not in the CalWS-SOAP namespace") }
        let id = Int(e.attribute("id") ?? "0") ?? 0
        guard let statusText = e.child("status", namespace: ns)?.text, let status = CalWSStatus(rawValue: statusText) else {
            throw fail(e, "<\(e.name)> needs a status (one of \(CalWSStatus.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        var result = CalWSResult(status: status, message: e.child("message", namespace: ns)?.text)
        if let er = e.child("errorResponse", namespace: ns)?.elements.first {
            switch er.name {
            case "invalidFilter": result.error = .invalidFilter(detail: er.child("detail", namespace: ns)?.text ?? "")
            case "uidConflict": result.error = .uidConflict(href: er.child("href", namespace: ns)?.text ?? "")
            default:
                guard let kind = CalWSErrorKind.simple.first(where: { $0.elementName == er.name }) else {
                    throw fail(er, "unknown CalWS error element <\(er.name)>")
                }
                result.error = kind
            }
        }
        let href = e.child("href", namespace: ns)?.text
        let token = e.child("changeToken", namespace: ns)?.text
        var diagnostics: [ICalDiagnostic] = []
        func calendar(_ el: XMLElement?) -> ICalComponent? {
            guard let cal = el?.child("icalendar", namespace: x)?.elements.first else { return nil }
            return XCalReader.component(cal, &diagnostics)
        }
        let body: CalWSResponse.Body
        switch e.name {
        case "getPropertiesResponse":
            if let href {
                var p = CollectionProperties(href: href, displayName: e.child("displayName", namespace: ns)?.text)
                p.resourceType = e.child("resourceType", namespace: ns)?.elements.first?.name ?? "collection"
                p.supportedFeatures = e.child("supportedFeatures", namespace: ns)?.elements.map(\.name) ?? []
                body = .getProperties(p)
            } else {
                body = .getProperties(nil)
            }
        case "calendarQueryResponse":
            body = .calendarQuery(e.children("response", namespace: ns).map { r in
                let data = r.child("propstat", namespace: ns)?.child("prop", namespace: ns)?.child("calendar-data", namespace: ns)
                return EntityInfo(href: r.child("href", namespace: ns)?.text ?? "", changeToken: r.child("changeToken", namespace: ns)?.text ?? "",
                                  calendar: calendar(data))
            })
        case "fetchItemResponse":
            body = .fetchItem(href.map { EntityInfo(href: $0, changeToken: token ?? "", calendar: calendar(e)) })
        case "addItemResponse": body = .addItem(href: href, changeToken: token)
        case "updateItemResponse": body = .updateItem(changeToken: token)
        case "deleteItemResponse": body = .deleteItem
        case "multiOpResponse":
            var inner: [CalWSResponse] = []
            for r in e.child("responses", namespace: ns)?.elements ?? [] { inner.append(try response(r)) }
            body = .multiOp(inner)
        default:
            throw fail(e, "unknown response <\(e.name)>")
        }
        if let d = diagnostics.first { throw CalWSDecodeError(line: d.line, message: d.message) }
        return CalWSResponse(id: id, result: result, body)
    }
}
