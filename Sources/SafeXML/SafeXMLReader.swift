import CLibXML2

/// Why an XML body was refused.
public enum XMLReadError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not well-formed XML; libxml2's message and the line.
    case malformed(line: Int, message: String)
    /// A document type declaration: refused, so no DTD, entity declaration or external
    /// reference is ever processed (billion laughs, XXE).
    case doctypeRefused(line: Int)
    /// An entity reference that is not one of XML's predefined five.
    case entityRefused(line: Int, name: String)
    /// Nesting deeper than the limit.
    case tooDeep(line: Int, limit: Int)
    /// A body larger than the limit, in bytes.
    case tooLarge(bytes: Int, limit: Int)
    /// More elements than the limit.
    case tooManyElements(limit: Int)
    /// An empty body.
    case empty

    public var description: String {
        switch self {
        case .malformed(let line, let message): "line \(line): malformed XML: \(message)"
        case .doctypeRefused(let line): "line \(line): a DOCTYPE is not allowed (DTDs and entity declarations are refused)"
        case .entityRefused(let line, let name): "line \(line): entity reference &\(name); is not allowed"
        case .tooDeep(let line, let limit): "line \(line): XML nested deeper than \(limit) levels"
        case .tooLarge(let bytes, let limit): "XML body of \(bytes) bytes exceeds the limit of \(limit) bytes"
        case .tooManyElements(let limit): "XML body has more than \(limit) elements"
        case .empty: "the XML body is empty"
        }
    }
}

/// Reads XML into an `XMLElement` tree through libxml2's xmlTextReader, hardened against hostile
/// input: no network access, no DTD loading, no entity expansion, a DOCTYPE refused outright,
/// and limits on size, depth and element count.
public struct SafeXMLReader: Sendable {
    public struct Limits: Sendable {
        public var maxBytes: Int = 64 << 20
        public var maxDepth: Int = 64
        public var maxElements: Int = 4_000_000
        public init() {}
    }

    public var limits: Limits

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    private static let initialized: Void = { xmlInitParser() }()

    /// The document element of `bytes`.
    public func parse(_ bytes: [UInt8]) throws(XMLReadError) -> XMLElement {
        _ = Self.initialized
        guard !bytes.isEmpty else { throw .empty }
        guard bytes.count <= limits.maxBytes else { throw .tooLarge(bytes: bytes.count, limit: limits.maxBytes) }
        // NONET: no network. Not NOENT (no entity substitution), not DTDLOAD/DTDATTR/DTDVALID.
        // NOCDATA merges CDATA into text. NOERROR/NOWARNING keep libxml2 from printing to stderr.
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOCDATA.rawValue | XML_PARSE_BIG_LINES.rawValue
            | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)
        let result: Result<XMLElement, XMLReadError> = bytes.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { chars in
                guard let reader = xmlReaderForMemory(chars.baseAddress, Int32(chars.count), nil, nil, options) else {
                    return .failure(.malformed(line: 0, message: "libxml2 could not create a reader"))
                }
                defer { xmlFreeTextReader(reader) }
                return readTree(reader)
            }
        }
        return try result.get()
    }

    private func readTree(_ reader: xmlTextReaderPtr) -> Result<XMLElement, XMLReadError> {
        var stack: [XMLElement] = []
        var root: XMLElement?
        var count = 0

        func finish(_ e: XMLElement) {
            if stack.isEmpty { root = e } else { stack[stack.count - 1].children.append(.element(e)) }
        }

        while true {
            let r = xmlTextReaderRead(reader)
            if r == 0 { break }
            if r < 0 { return .failure(Self.lastError(line: Int(xmlTextReaderGetParserLineNumber(reader)))) }
            // The node's own line; nodes without one (a DOCTYPE) take the parser's current line.
            var line = Int(xmlGetLineNo(xmlTextReaderCurrentNode(reader)))
            if line <= 0 { line = Int(xmlTextReaderGetParserLineNumber(reader)) }
            let type = xmlTextReaderNodeType(reader)
            switch type {
            case 1: // element
                count += 1
                if count > limits.maxElements { return .failure(.tooManyElements(limit: limits.maxElements)) }
                let depth = Int(xmlTextReaderDepth(reader))
                if depth >= limits.maxDepth { return .failure(.tooDeep(line: line, limit: limits.maxDepth)) }
                var e = XMLElement(Self.string(xmlTextReaderConstLocalName(reader)),
                                   namespace: Self.string(xmlTextReaderConstNamespaceUri(reader)), line: line)
                if xmlTextReaderHasAttributes(reader) == 1 {
                    while xmlTextReaderMoveToNextAttribute(reader) == 1 {
                        let ns = Self.string(xmlTextReaderConstNamespaceUri(reader))
                        if ns == "http://www.w3.org/2000/xmlns/" { continue } // namespace declarations
                        e.attributes.append(XMLAttribute(Self.string(xmlTextReaderConstLocalName(reader)),
                                                         Self.string(xmlTextReaderConstValue(reader)), namespace: ns))
                    }
                    xmlTextReaderMoveToElement(reader)
                }
                if xmlTextReaderIsEmptyElement(reader) == 1 {
                    finish(e)
                } else {
                    stack.append(e)
                }
            case 15: // end element
                guard let e = stack.popLast() else { break }
                finish(e)
            case 3, 4, 13, 14: // text, CDATA, whitespace
                guard !stack.isEmpty else { break }
                let t = Self.string(xmlTextReaderConstValue(reader))
                if case .text(let prev)? = stack[stack.count - 1].children.last {
                    stack[stack.count - 1].children[stack[stack.count - 1].children.count - 1] = .text(prev + t)
                } else {
                    stack[stack.count - 1].children.append(.text(t))
                }
            case 5: // entity reference
                return .failure(.entityRefused(line: line, name: Self.string(xmlTextReaderConstName(reader))))
            case 10: // document type
                return .failure(.doctypeRefused(line: line))
            default:
                break // comments, processing instructions
            }
        }
        guard let root else { return .failure(.malformed(line: 0, message: "no document element")) }
        return .success(root)
    }

    private static func string(_ p: UnsafePointer<xmlChar>?) -> String {
        guard let p else { return "" }
        return String(cString: p)
    }

    private static func lastError(line: Int) -> XMLReadError {
        guard let err = xmlGetLastError() else { return .malformed(line: line, message: "unknown parse error") }
        var message = err.pointee.message.map { String(cString: $0) } ?? "parse error"
        while message.last == "\n" || message.last == " " { message.removeLast() }
        let errLine = Int(err.pointee.line)
        return .malformed(line: errLine > 0 ? errLine : line, message: message)
    }
}
