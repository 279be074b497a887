internal import CLibXML2
#if canImport(Glibc)
    import Glibc
#endif

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
    /// The element's own text; child elements are skipped.
    mutating func text() throws -> String
    /// The element read by `read`, or, when an element with the same content (names,
    /// namespaces, attributes and text, in order; lines aside) was read earlier in this document
    /// under the same `key` and `read` said its result may stand for such an element, that
    /// result again without reading this one. A document that repeats a subtree (the VTIMEZONE of
    /// every entity in a CalWS request) is then turned into trees once per distinct subtree.
    mutating func reading<T>(_ key: String, _ read: (inout Self) throws -> (T, reusable: Bool)) throws -> T
}

extension XMLWalker {
    /// Reads every element (a tree in memory has no reading to save).
    public mutating func reading<T>(_ key: String, _ read: (inout Self) throws -> (T, reusable: Bool)) throws -> T {
        try read(&self).0
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

    public mutating func text() throws -> String { current.text }
}

/// Walks a document as libxml2's SAX2 parser reads it, a chunk at a time, hardened as
/// `SafeXMLReader` describes: no network, no DTD, no entity expansion, a DOCTYPE or an entity
/// reference other than XML's five refused, and the size, depth and element-count limits
/// enforced as the walk goes. Errors are `XMLReadError`s. No tree is built: the parser's events
/// for one chunk are kept until the walk has taken them.
public struct XMLCursor: XMLWalker {
    private let tape: SAXTape
    public private(set) var name = ""
    public private(set) var namespace = ""
    public private(set) var line = 0
    private var attributeList: [XMLAttribute] = []
    /// Whether the element the cursor is at has been read to its end.
    private var consumed = false

    private init(tape: SAXTape) {
        self.tape = tape
    }

    /// Walks `bytes` with the cursor at the document element; what `body` leaves unread is read
    /// to the end of the document, so an error anywhere in it is still reported.
    public static func walk<T>(
        _ bytes: [UInt8], limits: SafeXMLReader.Limits = .init(), _ body: (inout XMLCursor) throws -> T
    ) throws -> T {
        guard !bytes.isEmpty else { throw XMLReadError.empty }
        guard bytes.count <= limits.maxBytes else {
            throw XMLReadError.tooLarge(bytes: bytes.count, limit: limits.maxBytes)
        }
        return try bytes.withUnsafeBufferPointer { buffer in
            let tape = try SAXTape(buffer, limits: limits)
            defer { tape.close() }
            var cursor = XMLCursor(tape: tape)
            while true {
                guard let event = try tape.next() else {
                    throw XMLReadError.malformed(line: 0, message: "no document element")
                }
                if event.kind == .start {
                    cursor.enter(event)
                    break
                }
            }
            let result = try body(&cursor)
            if !cursor.consumed { try cursor.skip() }
            while try tape.next() != nil {}
            return result
        }
    }

    /// Puts the cursor at the element a start event began.
    private mutating func enter(_ e: SAXTape.Event) {
        name = tape.string(e.name)
        namespace = tape.string(e.namespace)
        line = e.line
        attributeList = e.count > 0 ? tape.attributes(of: e) : []
        consumed = false
    }

    public func attributes() -> [XMLAttribute] { attributeList }

    /// Reads the current element's content up to its end: each child element goes to `child`
    /// (and is skipped if left unread), each run of text to `text`.
    private mutating func walkChildren(_ child: (inout XMLCursor) throws -> Void, text: (String) -> Void) throws {
        guard !consumed else { return }
        consumed = true
        while let e = try tape.next() {
            switch e.kind {
            case .start:
                enter(e)
                try child(&self)
                if !consumed { try skip() }
            case .end:
                consumed = true
                return
            case .text:
                text(tape.text(of: e))
            }
        }
        throw XMLReadError.malformed(line: tape.line, message: "the document ends inside an element")
    }

    /// Goes past the end of the current element without reading what is in it.
    private mutating func skip() throws {
        guard !consumed else { return }
        consumed = true
        try tape.skipSubtree()
    }

    public mutating func forEachChild(_ body: (inout XMLCursor) throws -> Void) throws -> String {
        var text = ""
        try walkChildren(body) { text += $0 }
        return text
    }

    public mutating func text() throws -> String {
        try forEachChild { _ in }
    }

    public mutating func element() throws -> XMLElement {
        var e = XMLElement(name, namespace: namespace, attributes: attributeList, line: line)
        try walkChildren({ c in e.children.append(.element(try c.element())) }) { t in
            if case .text(let prev)? = e.children.last {
                e.children[e.children.count - 1] = .text(prev + t)
            } else {
                e.children.append(.text(t))
            }
        }
        return e
    }

    /// The subtree's events are looked at before it is read (at most `SAXTape.reuseLimit` of
    /// them, kept in memory meanwhile; a larger subtree is simply read), and compared with those
    /// of the subtrees read under `key` before (at most `SAXTape.reuseEntries` kept per key).
    public mutating func reading<T>(_ key: String, _ read: (inout XMLCursor) throws -> (T, reusable: Bool)) throws -> T
    {
        guard !consumed, tape.pinLastEvent() else { return try read(&self).0 }
        let found: SAXTape.LookUp
        do { found = try tape.lookUp(key) } catch {
            tape.unpin()
            throw error
        }
        if case .found(let value as T) = found {
            tape.unpin()
            consumed = true
            return value
        }
        // Taken before the subtree is read (a reading inside it looks up its own), and only
        // while there is room to keep it.
        var signature: [UInt8]?
        if case .notFound = found { signature = tape.signatureToKeep(key) }
        // The events are read again, and no longer held once taken: a subtree too large to
        // look at is read in chunks as any other.
        tape.rewind()
        let (value, reusable) = try read(&self)
        if !consumed { try skip() }
        if reusable, let signature { tape.keep(key, signature, value) }
        return value
    }
}

/// libxml2's push parser with SAX2 callbacks that record what it reads as events, fed a chunk at
/// a time as the cursor asks for more. An event holds no reference: names are numbers into the
/// document's table of strings, and texts and attribute values are ranges of one byte buffer,
/// made into strings only when the cursor takes them.
final class SAXTape {
    struct Event {
        enum Kind: UInt8 { case start, end, text }
        var kind: Kind
        /// A start's name and namespace (indexes into `strings`).
        var name = 0, namespace = 0
        var line = 0
        /// A start's attributes (in `attributeList`), a text's bytes (in `bytes`).
        var first = 0, count = 0
    }

    struct Attribute {
        var name: Int, namespace: Int
        /// The value's bytes in `bytes`.
        var first: Int, count: Int
    }

    /// A subtree read before (by the signature of its events) and what it was read as.
    struct Reusable {
        var signature: [UInt8]
        var value: Any
    }

    enum LookUp {
        case found(Any)
        case notFound
        case tooLarge
    }

    /// The most events of a subtree looked at for reuse, and the most subtrees kept per key.
    static let reuseLimit = 4096
    static let reuseEntries = 16

    private static let chunk = 256 << 10

    private var context: xmlParserCtxtPtr?
    private let input: UnsafeBufferPointer<UInt8>
    @exclusivity(unchecked) private var fed = 0
    private let limits: SafeXMLReader.Limits
    @exclusivity(unchecked) private var events: [Event] = []
    @exclusivity(unchecked) private var attributeList: [Attribute] = []
    @exclusivity(unchecked) private var bytes: [UInt8] = []
    @exclusivity(unchecked) private var position = 0
    /// While set, the events from this index on (a subtree looked at before it is read) are kept
    /// when the next chunk is parsed.
    @exclusivity(unchecked) private var pinned: Int?
    /// The signature of the subtree last looked up: the first `signatureLength` bytes.
    @exclusivity(unchecked) private var signature: [UInt8] = []
    @exclusivity(unchecked) private var signatureLength = 0
    @exclusivity(unchecked) private var reusable: [String: [Reusable]] = [:]
    @exclusivity(unchecked) private var error: XMLReadError?
    @exclusivity(unchecked) private var depth = 0
    @exclusivity(unchecked) private var count = 0
    /// The document's names and namespace URIs, each once (index 0 is ""). They come from the
    /// parser's dictionary, one pointer per distinct string, so a pointer is remembered with its
    /// index; the bytes are still compared, so a pointer that was not the dictionary's can never
    /// give a wrong name.
    @exclusivity(unchecked) private var strings: [String] = [""]
    @exclusivity(unchecked) private var index: [String: Int] = ["": 0]
    @exclusivity(unchecked) private var recent = [(UnsafePointer<xmlChar>?, Int)](repeating: (nil, 0), count: 256)

    init(_ input: UnsafeBufferPointer<UInt8>, limits: SafeXMLReader.Limits) throws(XMLReadError) {
        _ = LibXML2.ready
        self.input = input
        self.limits = limits
        var sax = xmlSAXHandler()
        sax.initialized = XML_SAX2_MAGIC
        sax.startElementNs = { ctx, localname, _, uri, _, _, attributeCount, _, attributes in
            SAXTape.from(ctx)?.start(localname, uri, Int(attributeCount), attributes)
        }
        sax.endElementNs = { ctx, _, _, _ in SAXTape.from(ctx)?.end() }
        sax.characters = { ctx, ch, len in SAXTape.from(ctx)?.text(ch, Int(len)) }
        sax.cdataBlock = sax.characters
        // The same function, so libxml2 never sets whitespace apart as "ignorable".
        sax.ignorableWhitespace = sax.characters
        // A DOCTYPE is refused outright, so no DTD or entity declaration is ever processed
        // (billion laughs, XXE); an entity the document names is refused by name.
        sax.internalSubset = { ctx, _, _, _ in
            guard let tape = SAXTape.from(ctx) else { return }
            tape.refuse(.doctypeRefused(line: tape.line))
        }
        sax.getEntity = { ctx, name in
            guard let tape = SAXTape.from(ctx) else { return nil }
            tape.refuse(.entityRefused(line: tape.line, name: name.map { String(cString: $0) } ?? ""))
            return nil
        }
        guard let ctxt = xmlCreatePushParserCtxt(&sax, nil, nil, 0, nil) else {
            throw .malformed(line: 0, message: "libxml2 could not create a parser")
        }
        // NONET: no network. Not NOENT (no entity substitution), not DTDLOAD/DTDATTR/DTDVALID.
        // NOERROR/NOWARNING keep libxml2 from printing to stderr.
        xmlCtxtUseOptions(
            ctxt, Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue))
        ctxt.pointee._private = Unmanaged.passUnretained(self).toOpaque()
        context = ctxt
    }

    func close() {
        if let context { xmlFreeParserCtxt(context) }
        context = nil
    }

    /// The parser's current line.
    var line: Int { context.map { Int($0.pointee.input?.pointee.line ?? 0) } ?? 0 }

    private static func from(_ ctx: UnsafeMutableRawPointer?) -> SAXTape? {
        guard let p = ctx?.assumingMemoryBound(to: xmlParserCtxt.self).pointee._private else { return nil }
        return Unmanaged<SAXTape>.fromOpaque(p).takeUnretainedValue()
    }

    // MARK: What the cursor takes

    /// The next event; nil at the end of the document.
    func next() throws(XMLReadError) -> Event? {
        while position == events.count {
            if let error { throw error }
            guard let context, fed < input.count else { return nil }
            if pinned == nil {
                events.removeAll(keepingCapacity: true)
                attributeList.removeAll(keepingCapacity: true)
                bytes.removeAll(keepingCapacity: true)
                position = 0
            }
            let n = min(Self.chunk, input.count - fed)
            let last = fed + n == input.count
            let rc = input.baseAddress!.advanced(by: fed).withMemoryRebound(to: CChar.self, capacity: n) {
                xmlParseChunk(context, $0, Int32(n), last ? 1 : 0)
            }
            fed += n
            if rc != 0, error == nil { error = lastError() }
        }
        defer { position += 1 }
        return events[position]
    }

    func string(_ index: Int) -> String { strings[index] }

    /// A text event's text.
    func text(of e: Event) -> String { string(e.first, e.count) }

    /// A start event's attributes.
    func attributes(of e: Event) -> [XMLAttribute] {
        attributeList[e.first..<e.first + e.count].map { a in
            XMLAttribute(strings[a.name], string(a.first, a.count), namespace: strings[a.namespace])
        }
    }

    /// The `count` bytes at `first` in the buffer, as a string.
    private func string(_ first: Int, _ count: Int) -> String {
        bytes.withUnsafeBufferPointer {
            String(decoding: UnsafeBufferPointer(rebasing: $0[first..<first + count]), as: UTF8.self)
        }
    }

    /// Takes the events up to the end of the element whose start was taken last; false (and
    /// stops) when that takes more than `limit` events.
    @discardableResult
    func skipSubtree(within limit: Int = .max) throws(XMLReadError) -> Bool {
        var depth = 1
        var taken = 0
        while depth > 0 {
            guard taken < limit else { return false }
            guard let e = try next() else {
                throw .malformed(line: line, message: "the document ends inside an element")
            }
            taken += 1
            switch e.kind {
            case .start: depth += 1
            case .end: depth -= 1
            case .text: break
            }
        }
        return true
    }

    // MARK: Subtrees read once

    /// Keeps the event last taken (a start) and all after it, until `unpin`; false when
    /// something is already pinned.
    func pinLastEvent() -> Bool {
        guard pinned == nil, position > 0, events[position - 1].kind == .start else { return false }
        pinned = position - 1
        return true
    }

    func unpin() { pinned = nil }

    /// Takes the pinned events again from the one after the pinned start, and unpins them.
    func rewind() {
        position = pinned! + 1
        pinned = nil
    }

    /// Takes the events of the subtree whose start is pinned and looks them up among those
    /// kept under `key` before, by their signature: each event's kind, names, attributes and
    /// text (lines aside).
    func lookUp(_ key: String) throws(XMLReadError) -> LookUp {
        let start = pinned!
        guard try skipSubtree(within: Self.reuseLimit) else { return .tooLarge }
        // The signature is written in place: its length first, then its bytes.
        let subtree = events[start..<position]
        var length = 0
        for e in subtree {
            switch e.kind {
            case .start:
                length += 13
                for a in attributeList[e.first..<e.first + e.count] { length += 12 + a.count }
            case .end: length += 1
            case .text: length += 5 + e.count
            }
        }
        if signature.count < length { signature = [UInt8](repeating: 0, count: Swift.max(length, 2 * signature.count)) }
        signatureLength = length
        signature.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBufferPointer { text in
                var p = out.baseAddress!
                func put(_ v: Int) {
                    UnsafeMutableRawPointer(p).storeBytes(
                        of: UInt32(truncatingIfNeeded: v).littleEndian, as: UInt32.self)
                    p += 4
                }
                func put(_ first: Int, _ count: Int) {
                    if count > 0 { p.update(from: text.baseAddress! + first, count: count) }
                    p += count
                }
                for e in subtree {
                    p.pointee = e.kind.rawValue
                    p += 1
                    switch e.kind {
                    case .start:
                        put(e.name)
                        put(e.namespace)
                        put(e.count)
                        for a in attributeList[e.first..<e.first + e.count] {
                            put(a.name)
                            put(a.namespace)
                            put(a.count)
                            put(a.first, a.count)
                        }
                    case .end:
                        break
                    case .text:
                        put(e.count)
                        put(e.first, e.count)
                    }
                }
            }
        }
        let candidates = reusable[key, default: []]
        return signature.withUnsafeBufferPointer { sig in
            for c in candidates where c.signature.count == length {
                if c.signature.withUnsafeBufferPointer({ memcmp($0.baseAddress!, sig.baseAddress!, length) == 0 }) {
                    return .found(c.value)
                }
            }
            return .notFound
        }
    }

    /// The signature of the subtree last looked up, if there is room to keep another under `key`.
    func signatureToKeep(_ key: String) -> [UInt8]? {
        reusable[key, default: []].count < Self.reuseEntries ? Array(signature[..<signatureLength]) : nil
    }

    /// Keeps what a subtree of this signature was read as.
    func keep(_ key: String, _ signature: [UInt8], _ value: Any) {
        reusable[key, default: []].append(Reusable(signature: signature, value: value))
    }

    // MARK: The parser's callbacks

    private func refuse(_ e: XMLReadError) {
        if error == nil { error = e }
        if let context { xmlStopParser(context) }
    }

    private func intern(_ p: UnsafePointer<xmlChar>?) -> Int {
        guard let p else { return 0 }
        let slot = Int(bitPattern: UInt(bitPattern: p) >> 3) & 255
        let (known, i) = recent[slot]
        if known == p,
            strings[i].withCString({ strcmp($0, UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self)) == 0 })
        {
            return i
        }
        let s = String(cString: p)
        let found =
            index[s]
            ?? {
                strings.append(s)
                index[s] = strings.count - 1
                return strings.count - 1
            }()
        recent[slot] = (p, found)
        return found
    }

    /// Appends bytes to the buffer; their first index.
    private func store(_ p: UnsafePointer<xmlChar>, _ n: Int) -> Int {
        let first = bytes.count
        bytes.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
        return first
    }

    private func start(
        _ localname: UnsafePointer<xmlChar>?, _ uri: UnsafePointer<xmlChar>?, _ attributeCount: Int,
        _ attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?
    ) {
        guard error == nil else { return }
        count += 1
        if count > limits.maxElements { return refuse(.tooManyElements(limit: limits.maxElements)) }
        if depth >= limits.maxDepth { return refuse(.tooDeep(line: line, limit: limits.maxDepth)) }
        depth += 1
        let first = attributeList.count
        if let attributes, attributeCount > 0 {
            for i in 0..<attributeCount {
                let a = attributes + 5 * i  // localname, prefix, URI, value, end
                guard let value = a[3], let end = a[4] else { continue }
                attributeList.append(
                    Attribute(
                        name: intern(a[0]), namespace: intern(a[2]), first: store(value, end - value),
                        count: end - value))
            }
        }
        events.append(
            Event(
                kind: .start, name: intern(localname), namespace: intern(uri), line: line, first: first,
                count: attributeList.count - first))
    }

    private func end() {
        guard error == nil else { return }
        depth -= 1
        events.append(Event(kind: .end))
    }

    /// A text the parser hands over in pieces is one event (unless the cursor took the first
    /// piece before the next chunk was parsed).
    private func text(_ ch: UnsafePointer<xmlChar>?, _ length: Int) {
        guard error == nil, let ch else { return }
        let first = store(ch, length)
        if events.count > position, events[events.count - 1].kind == .text,
            events[events.count - 1].first + events[events.count - 1].count == first
        {
            events[events.count - 1].count += length
        } else {
            events.append(Event(kind: .text, first: first, count: length))
        }
    }

    private func lastError() -> XMLReadError {
        guard let context, let err = xmlCtxtGetLastError(context) else {
            return .malformed(line: line, message: "unknown parse error")
        }
        var message = err.pointee.message.map { String(cString: $0) } ?? "parse error"
        while message.last == "\n" || message.last == " " { message.removeLast() }
        let errLine = Int(err.pointee.line)
        return .malformed(line: errLine > 0 ? errLine : line, message: message)
    }
}
