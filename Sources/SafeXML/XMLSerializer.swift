internal import CLibXML2

/// Where XML goes element by element: straight into bytes (`XMLStreamWriter`) or into an
/// `XMLElement` tree (`XMLTreeBuilder`). Code that writes XML once against this protocol serves
/// both, so a large message is never built as a tree only to be written out.
/// Attributes of an element are written right after its `start`, before any child or text.
public protocol XMLSink {
    mutating func start(_ name: String, namespace: String)
    mutating func attribute(_ name: String, _ value: String, namespace: String)
    mutating func text(_ text: String)
    mutating func end()
    /// Writes what `write` writes, which is the same every time `key` comes: a sink may keep it
    /// the first time and repeat it after (the stream writer does, within one document, as
    /// bytes). `owner` is kept alive as long as that, for keys that say where something is.
    mutating func repeating<K: Hashable>(_ key: K, owner: Any, _ write: (inout Self) -> Void)
}

extension XMLSink {
    public mutating func repeating<K: Hashable>(_ key: K, owner: Any, _ write: (inout Self) -> Void) {
        write(&self)
    }

    /// An element holding only text.
    public mutating func element(_ name: String, namespace: String, text: String) {
        start(name, namespace: namespace)
        self.text(text)
        end()
    }

    /// A whole tree.
    public mutating func element(_ e: XMLElement) {
        start(e.name, namespace: e.namespace)
        for a in e.attributes { attribute(a.name, a.value, namespace: a.namespace) }
        for child in e.children {
            switch child {
            case .element(let c): element(c)
            case .text(let t): text(t)
            }
        }
        end()
    }
}

/// Builds the `XMLElement` tree of what is written to it.
public struct XMLTreeBuilder: XMLSink {
    private var open: [XMLElement] = []
    /// The first complete top-level element written.
    public private(set) var root: XMLElement?

    public init() {}

    /// The tree that `write` puts into a builder.
    public static func build(_ write: (inout XMLTreeBuilder) -> Void) -> XMLElement {
        var b = XMLTreeBuilder()
        write(&b)
        return b.root ?? XMLElement("", namespace: "")
    }

    public mutating func start(_ name: String, namespace: String) {
        open.append(XMLElement(name, namespace: namespace))
    }

    public mutating func attribute(_ name: String, _ value: String, namespace: String) {
        open[open.count - 1].attributes.append(XMLAttribute(name, value, namespace: namespace))
    }

    public mutating func text(_ text: String) {
        open[open.count - 1].children.append(.text(text))
    }

    public mutating func end() {
        let e = open.removeLast()
        if open.isEmpty {
            if root == nil { root = e }
        } else {
            open[open.count - 1].children.append(.element(e))
        }
    }
}

/// Writes UTF-8 XML through libxml2's xmlTextWriter, which escapes text and attribute values (a
/// CR inside text is written as `&#13;` so that it survives a re-read). `prefixes` maps namespace
/// URIs to the prefixes to use ("" for the default namespace); all are declared on the first
/// element. A namespace not in the map is declared where it is first used, with a generated
/// prefix, for that element's subtree. With `indent`, elements that hold only elements are laid
/// out one per line (text content is never touched, so what a reader takes from it is the same).
public final class XMLStreamWriter: XMLSink {
    private let buffer: xmlBufferPtr
    private let writer: xmlTextWriterPtr
    private let declaration: Bool
    // A writer is used by one thread at a time (it is not Sendable), so the run-time checks of
    // exclusive access to these, about a fifth of the time of writing xCal, are left out.
    @exclusivity(unchecked) private var rootPrefixes: [(uri: String, prefix: String)]
    /// The namespaces in scope, innermost last, and how many each open element added.
    @exclusivity(unchecked) private var scope: [(uri: String, prefix: String)] = []
    @exclusivity(unchecked) private var added: [Int] = []
    @exclusivity(unchecked) private var generated = 0
    @exclusivity(unchecked) private var finished = false
    private let indent: Bool
    /// What `repeating` kept: the bytes written under a key, with the namespaces they were
    /// written in.
    @exclusivity(unchecked) private var repeated:
        [AnyHashable: (owner: Any, scope: [(uri: String, prefix: String)], bytes: [UInt8])] = [:]

    /// A writer of a document (`declaration`), or of a part of one: `inScope` are the namespaces
    /// already declared where the part goes, which are used without being declared again.
    public init(
        prefixes: [String: String] = [:], declaration: Bool = true, indent: Bool = false,
        inScope: [(uri: String, prefix: String)] = []
    ) {
        _ = LibXML2.ready  // a writer may be the first of the process's threads to use libxml2
        buffer = xmlBufferCreateSize(1 << 16)
        writer = xmlNewTextWriterMemory(buffer, 0)
        self.declaration = declaration
        self.indent = indent
        scope = inScope
        rootPrefixes = prefixes.sorted { $0.value < $1.value }.map { (uri: $0.key, prefix: $0.value) }
        if indent {
            xmlTextWriterSetIndent(writer, 1)
            _ = xmlTextWriterSetIndentString(writer, "  ".xmlChars)
        }
        if declaration { xmlTextWriterStartDocument(writer, "1.0", "UTF-8", nil) }
    }

    deinit {
        if !finished { xmlFreeTextWriter(writer) }
        xmlBufferFree(buffer)
    }

    /// The prefix bound to `uri` in scope (an attribute needs a non-empty one), or nil.
    private func boundPrefix(_ uri: String, attribute: Bool) -> String? {
        var i = scope.count
        while i > 0 {
            i -= 1
            if scope[i].uri == uri, !(attribute && scope[i].prefix.isEmpty) { return scope[i].prefix }
        }
        return nil
    }

    private func nextPrefix() -> String {
        generated += 1
        return "ns\(generated)"
    }

    /// Declares `prefix` for `uri` on the element being started (once its name is written), for
    /// its subtree.
    private func bind(_ uri: String, _ prefix: String) {
        scope.append((uri, prefix))
        added[added.count - 1] += 1
        writeAttribute("xmlns:" + prefix, uri)
    }

    public func start(_ name: String, namespace: String) {
        let isRoot = added.isEmpty
        added.append(0)
        if isRoot {
            // In scope from here; declared below, once the element's name is written.
            scope += rootPrefixes
            added[0] = rootPrefixes.count
        }
        let bound = namespace.isEmpty ? "" : boundPrefix(namespace, attribute: false)
        let new = bound == nil ? nextPrefix() : nil
        let prefix = bound ?? new!
        name.withCString { n in
            if prefix.isEmpty {
                _ = xmlTextWriterStartElement(writer, n.xml)
            } else {
                prefix.withCString { pc in _ = xmlTextWriterStartElementNS(writer, pc.xml, n.xml, nil) }
            }
        }
        if isRoot {
            for (uri, p) in rootPrefixes { writeAttribute(p.isEmpty ? "xmlns" : "xmlns:" + p, uri) }
        }
        if let new { bind(namespace, new) }
    }

    public func attribute(_ name: String, _ value: String, namespace: String) {
        if namespace.isEmpty {
            writeAttribute(name, value)
        } else {
            let p =
                boundPrefix(namespace, attribute: true)
                ?? {
                    let p = nextPrefix()
                    bind(namespace, p)
                    return p
                }()
            writeAttribute(p + ":" + name, value)
        }
    }

    private func writeAttribute(_ name: String, _ value: String) {
        name.withCString { n in value.withCString { v in _ = xmlTextWriterWriteAttribute(writer, n.xml, v.xml) } }
    }

    public func text(_ text: String) {
        text.withCString { _ = xmlTextWriterWriteString(writer, $0.xml) }
    }

    public func end() {
        xmlTextWriterEndElement(writer)
        scope.removeLast(added.removeLast())
    }

    /// Kept as bytes the first time, and copied in after, in the same namespaces (a part written
    /// where other prefixes are in scope is written again). Not with `indent`, whose layout
    /// depends on where the part goes.
    public func repeating<K: Hashable>(_ key: K, owner: Any, _ write: (inout XMLStreamWriter) -> Void) {
        var me = self
        guard !indent else { return write(&me) }
        let key = AnyHashable(key)
        let bytes: [UInt8]
        if let kept = repeated[key], kept.scope.elementsEqual(scope, by: { $0.uri == $1.uri && $0.prefix == $1.prefix })
        {
            bytes = kept.bytes
        } else {
            var part = XMLStreamWriter(declaration: false, inScope: scope)
            write(&part)
            bytes = part.finish()
            repeated[key] = (owner, scope, bytes)
        }
        bytes.withUnsafeBufferPointer { _ = xmlTextWriterWriteRawLen(writer, $0.baseAddress, Int32($0.count)) }
    }

    /// Ends the document and returns its bytes; the writer takes no more after this.
    public func finish() -> [UInt8] {
        precondition(!finished, "XMLStreamWriter.finish called twice")
        if declaration { xmlTextWriterEndDocument(writer) }
        xmlFreeTextWriter(writer)  // flushes into the buffer
        finished = true
        guard let content = xmlBufferContent(buffer) else { return [] }
        return Array(UnsafeBufferPointer(start: content, count: Int(xmlBufferLength(buffer))))
    }
}

/// Writes an `XMLElement` tree as UTF-8 XML (see `XMLStreamWriter` for the namespace and
/// indentation rules).
public enum XMLSerializer {
    /// The XML bytes of `root`, with an XML declaration unless `declaration` is false.
    public static func serialize(
        _ root: XMLElement, prefixes: [String: String] = [:], declaration: Bool = true, indent: Bool = false
    ) -> [UInt8] {
        var w = XMLStreamWriter(prefixes: prefixes, declaration: declaration, indent: indent)
        w.element(root)
        return w.finish()
    }

    /// The XML text of `root`.
    public static func string(
        _ root: XMLElement, prefixes: [String: String] = [:], declaration: Bool = true, indent: Bool = false
    ) -> String {
        String(decoding: serialize(root, prefixes: prefixes, declaration: declaration, indent: indent), as: UTF8.self)
    }
}

extension UnsafePointer<CChar> {
    /// libxml2 takes `const xmlChar *` where Swift strings give `const char *`.
    fileprivate var xml: UnsafePointer<xmlChar> { UnsafeRawPointer(self).assumingMemoryBound(to: xmlChar.self) }
}

extension String {
    fileprivate var xmlChars: [xmlChar] { Array(utf8) + [0] }
}
