import CLibXML2
import Glibc

/// A forward walk over the elements of an XML document, positioned at one element at a time:
/// its name, namespace and line are read there, then its children are visited (`forEachChild`)
/// or it is taken whole (`text`, `element`). Code that reads XML once against this protocol
/// reads both a document streamed through libxml2 (`XMLCursor`, no tree built) and a tree in
/// memory (`XMLElementWalker`).
///
/// After `forEachChild`, `text` or `element`, the walker has left the element; its name and line
/// are no longer its own, so read them first. A child that `body` leaves unread is skipped.
public protocol XMLWalker {
    /// The local name of the element the walker is at.
    var name: String { get }
    /// Its namespace URI ("" for none).
    var namespace: String { get }
    /// The line it starts on (0 when unknown).
    var line: Int { get }
    /// Its attributes (namespace declarations left out).
    func attributes() -> [XMLAttribute]
    /// Visits each child element in order, with the walker at that child, and returns the
    /// element's own text (the concatenated text children).
    @discardableResult
    mutating func forEachChild(_ body: (inout Self) throws -> Void) throws -> String
    /// The element as a tree.
    mutating func element() throws -> XMLElement
}

extension XMLWalker {
    /// The element's own text; child elements are skipped.
    public mutating func text() throws -> String {
        try forEachChild { _ in }
    }

    /// The value of an attribute without namespace.
    public func attribute(_ name: String) -> String? {
        attributes().first { $0.name == name && $0.namespace.isEmpty }?.value
    }
}

/// Walks an `XMLElement` tree in memory; it never throws on its own.
public struct XMLElementWalker: XMLWalker {
    public let current: XMLElement

    public init(_ element: XMLElement) {
        current = element
    }

    public var name: String { current.name }
    public var namespace: String { current.namespace }
    public var line: Int { current.line }
    public func attributes() -> [XMLAttribute] { current.attributes }

    public mutating func forEachChild(_ body: (inout XMLElementWalker) throws -> Void) throws -> String {
        var text = ""
        for child in current.children {
            switch child {
            case .element(let e):
                var w = XMLElementWalker(e)
                try body(&w)
            case .text(let t):
                text += t
            }
        }
        return text
    }

    public mutating func element() throws -> XMLElement { current }
}

/// Walks a document as libxml2's xmlTextReader reads it, hardened as `SafeXMLReader` describes:
/// no network, no DTD, no entity expansion, a DOCTYPE or a non-predefined entity reference
/// refused, and the size, depth and element-count limits enforced as the walk goes. Errors are
/// `XMLReadError`s.
public struct XMLCursor: XMLWalker {
    private let reader: xmlTextReaderPtr
    private let limits: SafeXMLReader.Limits
    private var count = 0
    /// Names and namespace URIs come from the reader's dictionary, one pointer per distinct
    /// string, so each is turned into a Swift string once per document (the bytes are still
    /// compared, so a pointer that was not the dictionary's can never give a wrong name).
    private var names = [(UnsafePointer<xmlChar>?, String)](repeating: (nil, ""), count: 256)

    public private(set) var name = ""
    public private(set) var namespace = ""
    public private(set) var line = 0
    private var depth: Int32 = 0
    private var isEmpty = false
    /// Whether the element the cursor is at has been read to its end.
    private var consumed = false

    private init(reader: xmlTextReaderPtr, limits: SafeXMLReader.Limits) {
        self.reader = reader
        self.limits = limits
    }

    private static let initialized: Void = { xmlInitParser() }()

    /// Walks `bytes` with the cursor at the document element; what `body` leaves unread is read
    /// to the end of the document, so an error anywhere in it is still reported.
    public static func walk<T>(_ bytes: [UInt8], limits: SafeXMLReader.Limits = .init(), _ body: (inout XMLCursor) throws -> T) throws -> T {
        _ = initialized
        guard !bytes.isEmpty else { throw XMLReadError.empty }
        guard bytes.count <= limits.maxBytes else { throw XMLReadError.tooLarge(bytes: bytes.count, limit: limits.maxBytes) }
        // NONET: no network. Not NOENT (no entity substitution), not DTDLOAD/DTDATTR/DTDVALID.
        // NOCDATA merges CDATA into text. NOERROR/NOWARNING keep libxml2 from printing to stderr.
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOCDATA.rawValue | XML_PARSE_BIG_LINES.rawValue
            | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)
        return try bytes.withUnsafeBufferPointer { buf in
            try buf.withMemoryRebound(to: CChar.self) { chars in
                guard let reader = xmlReaderForMemory(chars.baseAddress, Int32(chars.count), nil, nil, options) else {
                    throw XMLReadError.malformed(line: 0, message: "libxml2 could not create a reader")
                }
                defer { xmlFreeTextReader(reader) }
                var cursor = XMLCursor(reader: reader, limits: limits)
                while try cursor.advance() != 1 {}
                let result = try body(&cursor)
                if !cursor.consumed { try cursor.skip() }
                while try cursor.advance() != 0 {}
                return result
            }
        }
    }

    /// Reads the next node; returns its type (1 element start, 15 element end, 3/4/13/14 text),
    /// or 0 at the end of the document (an error if no document element was seen).
    private mutating func advance() throws(XMLReadError) -> Int32 {
        let r = xmlTextReaderRead(reader)
        if r == 0 {
            if count == 0 { throw .malformed(line: 0, message: "no document element") }
            return 0
        }
        if r < 0 { throw Self.lastError(line: Int(xmlTextReaderGetParserLineNumber(reader))) }
        let type = xmlTextReaderNodeType(reader)
        switch type {
        case 1:
            count += 1
            if count > limits.maxElements { throw .tooManyElements(limit: limits.maxElements) }
            line = nodeLine()
            depth = xmlTextReaderDepth(reader)
            if depth >= limits.maxDepth { throw .tooDeep(line: line, limit: limits.maxDepth) }
            name = intern(xmlTextReaderConstLocalName(reader))
            namespace = intern(xmlTextReaderConstNamespaceUri(reader))
            isEmpty = xmlTextReaderIsEmptyElement(reader) == 1
            consumed = false
        case 5:
            throw .entityRefused(line: nodeLine(), name: Self.string(xmlTextReaderConstName(reader)))
        case 10:
            throw .doctypeRefused(line: nodeLine())
        default:
            break
        }
        return type
    }

    /// The current node's own line; nodes without one (a DOCTYPE) take the parser's current line.
    private func nodeLine() -> Int {
        let l = Int(xmlGetLineNo(xmlTextReaderCurrentNode(reader)))
        return l > 0 ? l : Int(xmlTextReaderGetParserLineNumber(reader))
    }

    private mutating func intern(_ p: UnsafePointer<xmlChar>?) -> String {
        guard let p else { return "" }
        let slot = Int(bitPattern: UInt(bitPattern: p) >> 3) & 255
        if names[slot].0 == p, names[slot].1.withCString({ strcmp($0, UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self)) == 0 }) {
            return names[slot].1
        }
        let s = String(cString: p)
        names[slot] = (p, s)
        return s
    }

    public func attributes() -> [XMLAttribute] {
        var cursor = self // interning in a copy: attributes are rare
        guard xmlTextReaderHasAttributes(reader) == 1 else { return [] }
        var result: [XMLAttribute] = []
        while xmlTextReaderMoveToNextAttribute(reader) == 1 {
            let ns = cursor.intern(xmlTextReaderConstNamespaceUri(reader))
            if ns == "http://www.w3.org/2000/xmlns/" { continue } // namespace declarations
            result.append(XMLAttribute(cursor.intern(xmlTextReaderConstLocalName(reader)), Self.string(xmlTextReaderConstValue(reader)), namespace: ns))
        }
        xmlTextReaderMoveToElement(reader)
        return result
    }

    /// Reads the current element's content up to its end: each child element goes to `child`
    /// (and is skipped if left unread), each run of text to `text`.
    private mutating func walkChildren(_ child: (inout XMLCursor) throws -> Void, text: (String) -> Void) throws {
        guard !consumed else { return }
        consumed = true
        if isEmpty { return }
        let d = depth
        while true {
            switch try advance() {
            case 0:
                throw XMLReadError.malformed(line: Int(xmlTextReaderGetParserLineNumber(reader)), message: "the document ends inside an element")
            case 1:
                try child(&self)
                if !consumed { try skip() }
            case 15 where xmlTextReaderDepth(reader) == d:
                consumed = true
                return
            case 3, 4, 13, 14:
                text(Self.string(xmlTextReaderConstValue(reader)))
            default:
                break
            }
        }
    }

    private mutating func skip() throws {
        try walkChildren({ _ in }, text: { _ in })
    }

    public mutating func forEachChild(_ body: (inout XMLCursor) throws -> Void) throws -> String {
        var text = ""
        try walkChildren(body) { text += $0 }
        return text
    }

    public mutating func element() throws -> XMLElement {
        var e = XMLElement(name, namespace: namespace, attributes: attributes(), line: line)
        try walkChildren({ c in e.children.append(.element(try c.element())) }) { t in
            if case .text(let prev)? = e.children.last {
                e.children[e.children.count - 1] = .text(prev + t)
            } else {
                e.children.append(.text(t))
            }
        }
        return e
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
