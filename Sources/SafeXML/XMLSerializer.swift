import CLibXML2

/// Writes an `XMLElement` tree as UTF-8 XML through libxml2's xmlTextWriter, which escapes text
/// and attribute values (a CR inside text is written as `&#13;` so that it survives a re-read).
public enum XMLSerializer {
    /// The XML bytes of `root`, with an XML declaration. `prefixes` maps namespace URIs to the
    /// prefixes to use ("" for the default namespace); all are declared on the root. A namespace
    /// not in the map is declared where it is first used, with a generated prefix.
    /// With `indent`, elements that hold only elements are laid out one per line (text content is
    /// never touched, so what a reader takes from it is the same).
    public static func serialize(_ root: XMLElement, prefixes: [String: String] = [:], declaration: Bool = true, indent: Bool = false) -> [UInt8] {
        guard let buffer = xmlBufferCreate() else { return [] }
        defer { xmlBufferFree(buffer) }
        guard let writer = xmlNewTextWriterMemory(buffer, 0) else { return [] }
        if indent {
            xmlTextWriterSetIndent(writer, 1)
            _ = "  ".xml.withUnsafeBufferPointer { xmlTextWriterSetIndentString(writer, $0.baseAddress) }
        }
        if declaration { xmlTextWriterStartDocument(writer, "1.0", "UTF-8", nil) }
        var state = State(prefixes: prefixes)
        write(root, writer, &state, isRoot: true)
        if declaration { xmlTextWriterEndDocument(writer) }
        xmlFreeTextWriter(writer) // flushes into the buffer
        guard let content = xmlBufferContent(buffer) else { return [] }
        let length = Int(xmlBufferLength(buffer))
        return Array(UnsafeBufferPointer(start: content, count: length))
    }

    /// The XML text of `root`.
    public static func string(_ root: XMLElement, prefixes: [String: String] = [:], declaration: Bool = true, indent: Bool = false) -> String {
        String(decoding: serialize(root, prefixes: prefixes, declaration: declaration, indent: indent), as: UTF8.self)
    }

    private struct State {
        var prefixes: [String: String]
        var generated = 0
    }

    private static func write(_ e: XMLElement, _ w: xmlTextWriterPtr, _ state: inout State, isRoot: Bool) {
        var declare: [(String, String)] = []
        if isRoot {
            for (uri, prefix) in state.prefixes.sorted(by: { $0.value < $1.value }) { declare.append((prefix, uri)) }
        }
        var added: [String] = []
        /// The prefix of `uri`, declared on this element when it is new here. An attribute
        /// cannot use the default namespace, so it gets a prefix of its own.
        func prefix(_ uri: String, attribute: Bool) -> String {
            if let p = state.prefixes[uri], !(attribute && p.isEmpty) { return p }
            state.generated += 1
            let p = "ns\(state.generated)"
            if state.prefixes[uri] == nil { state.prefixes[uri] = p; added.append(uri) }
            declare.append((p, uri))
            return p
        }
        let elementPrefix = e.namespace.isEmpty ? "" : prefix(e.namespace, attribute: false)
        let attributeNames = e.attributes.map { a in a.namespace.isEmpty ? a.name : prefix(a.namespace, attribute: true) + ":" + a.name }
        xmlTextWriterStartElement(w, elementPrefix.isEmpty ? e.name : elementPrefix + ":" + e.name)
        for (p, uri) in declare {
            xmlTextWriterWriteAttribute(w, p.isEmpty ? "xmlns" : "xmlns:" + p, uri)
        }
        for (a, name) in zip(e.attributes, attributeNames) {
            xmlTextWriterWriteAttribute(w, name, a.value)
        }
        for child in e.children {
            switch child {
            case .element(let c): write(c, w, &state, isRoot: false)
            case .text(let t): xmlTextWriterWriteString(w, t)
            }
        }
        xmlTextWriterEndElement(w)
        for uri in added { state.prefixes[uri] = nil }
    }
}

extension String {
    /// Swift strings convert to `const char *`, not to `const xmlChar *`; libxml2's writer takes
    /// the latter.
    fileprivate var xml: [UInt8] { Array(utf8) + [0] }
}

private func xmlTextWriterStartElement(_ w: xmlTextWriterPtr, _ name: String) {
    _ = name.xml.withUnsafeBufferPointer { CLibXML2.xmlTextWriterStartElement(w, $0.baseAddress) }
}

private func xmlTextWriterWriteAttribute(_ w: xmlTextWriterPtr, _ name: String, _ value: String) {
    _ = name.xml.withUnsafeBufferPointer { n in
        value.xml.withUnsafeBufferPointer { v in CLibXML2.xmlTextWriterWriteAttribute(w, n.baseAddress, v.baseAddress) }
    }
}

private func xmlTextWriterWriteString(_ w: xmlTextWriterPtr, _ text: String) {
    _ = text.xml.withUnsafeBufferPointer { CLibXML2.xmlTextWriterWriteString(w, $0.baseAddress) }
}
