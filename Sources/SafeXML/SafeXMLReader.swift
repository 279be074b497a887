internal import CLibXML2

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
        case .doctypeRefused(let line):
            "line \(line): a DOCTYPE is not allowed (DTDs and entity declarations are refused)"
        case .entityRefused(let line, let name): "line \(line): entity reference &\(name); is not allowed"
        case .tooDeep(let line, let limit): "line \(line): XML nested deeper than \(limit) levels"
        case .tooLarge(let bytes, let limit): "XML body of \(bytes) bytes exceeds the limit of \(limit) bytes"
        case .tooManyElements(let limit): "XML body has more than \(limit) elements"
        case .empty: "the XML body is empty"
        }
    }
}

/// Reads XML into an `XMLElement` tree through the SAX2 cursor (`XMLCursor`, libxml2's push
/// parser), hardened against hostile input: no network access, no DTD loading, no entity
/// expansion, a DOCTYPE refused outright, and limits on size, depth and element count.
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

    /// The document element of `bytes`, as a tree.
    public func parse(_ bytes: [UInt8]) throws(XMLReadError) -> XMLElement {
        do {
            return try XMLCursor.walk(bytes, limits: limits) { try $0.element() }
        } catch let e as XMLReadError {
            throw e
        } catch {
            throw .malformed(line: 0, message: "\(error)")  // not reached: only XMLReadErrors are thrown here
        }
    }
}
