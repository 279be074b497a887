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

    static func element(_ r: CalWSResponse) -> XMLElement {
        var e = XMLElement(r.elementName, namespace: ns, attributes: [XMLAttribute("id", String(r.id))])
        e.append(text("status", r.result.status.rawValue))
        if let m = r.result.message { e.append(text("message", m)) }
        if let err = r.result.error {
            var el = XMLElement(err.elementName, namespace: ns)
            switch err {
            case .invalidFilter(let detail): el.append(text("detail", detail))
            case .uidConflict(let href): el.append(text("href", href))
            default: break
            }
            e.append(XMLElement("errorResponse", namespace: ns, children: [.element(el)]))
        }
        switch r.body {
        case .getProperties(let p?):
            e.append(text("href", p.href))
            if let name = p.displayName { e.append(text("displayName", name)) }
            if let lm = p.lastModified { e.append(text("lastModifiedDateTime", xcalUTC(lm))) }
            e.append(XMLElement("resourceType", namespace: ns, children: [.element(XMLElement(p.resourceType, namespace: ns))]))
            e.append(XMLElement("supportedFeatures", namespace: ns, children: p.supportedFeatures.map { .element(XMLElement($0, namespace: ns)) }))
        case .getProperties(nil), .deleteItem:
            break
        case .calendarQuery(let entities):
            for en in entities {
                var resp = XMLElement("response", namespace: ns, children: [.element(text("href", en.href)), .element(text("changeToken", en.changeToken))])
                if let cal = en.calendar {
                    let data = XMLElement("calendar-data", namespace: ns, children: [.element(XCalWriter.document([cal]))])
                    let prop = XMLElement("prop", namespace: ns, children: [.element(data)])
                    resp.append(XMLElement("propstat", namespace: ns, children: [.element(text("status", "OK")), .element(prop)]))
                }
                e.append(resp)
            }
        case .fetchItem(let en):
            if let en {
                e.append(text("changeToken", en.changeToken))
                e.append(text("href", en.href))
                if let cal = en.calendar { e.append(XCalWriter.document([cal])) }
            }
        case .addItem(let href, let token):
            if let href { e.append(text("href", href)) }
            if let token { e.append(text("changeToken", token)) }
        case .updateItem(let token):
            if let token { e.append(text("changeToken", token)) }
        case .multiOp(let responses):
            e.append(XMLElement("responses", namespace: ns, children: responses.map { .element(element($0)) }))
        }
        return e
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
