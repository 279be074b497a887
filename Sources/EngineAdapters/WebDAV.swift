import Foundation
import SafeXML

/// WebDAV and CalDAV as the CalDAV source and target speak them: requests with the
/// credentials, limits and TLS of one end, the request bodies they send, and the responses of a
/// multistatus (RFC 4918 §13) read with the hardened parser.
struct WebDAV: Sendable {
    static let dav = "DAV:"
    static let caldav = "urn:ietf:params:xml:ns:caldav"

    var http = CurlHTTPClient()
    /// The `Authorization` header value, when the end has credentials.
    var authorization: String?
    var connectTimeout: Double
    var timeout: Double
    var caFile: String?
    var userAgent: String?

    /// Sends `method` to `url`; an answer larger than `maxBytes` is `.tooLarge`.
    func send(
        _ method: String, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil, maxBytes: Int
    ) async throws(HTTPTransportError) -> HTTPResponse {
        var all = headers
        if let authorization { all.append(("Authorization", authorization)) }
        var request = HTTPRequest(
            method: method, url: url, headers: all, body: body, connectTimeout: connectTimeout, timeout: timeout,
            maxResponseBytes: maxBytes, maxRedirects: 5)
        request.caFile = caFile
        request.userAgent = userAgent
        return try await http.send(request)
    }

    /// Sends a REPORT or PROPFIND with an XML body and a Depth.
    func xml(_ method: String, _ url: String, _ body: XMLElement, depth: String, maxBytes: Int)
        async throws(HTTPTransportError) -> HTTPResponse
    {
        try await send(
            method, url, headers: [("Content-Type", "application/xml; charset=utf-8"), ("Depth", depth)],
            body: XMLSerializer.serialize(body, prefixes: [Self.dav: "d", Self.caldav: "c"]), maxBytes: maxBytes)
    }

    // MARK: Request bodies

    static func element(_ name: String, _ namespace: String = dav, _ children: [XMLElement] = []) -> XMLElement {
        XMLElement(name, namespace: namespace, children: children.map { .element($0) })
    }

    static func prop(_ names: [XMLElement]) -> XMLElement { element("prop", dav, names) }

    static let getetag = element("getetag")
    static let calendarData = element("calendar-data", caldav)

    /// `sync-collection` (RFC 6578 §3.2) from `token` ("" for everything), asking each member's ETag.
    static func syncCollection(from token: String) -> XMLElement {
        element(
            "sync-collection", dav,
            [
                XMLElement("sync-token", namespace: dav, text: token),
                XMLElement("sync-level", namespace: dav, text: "1"), prop([getetag]),
            ])
    }

    /// `calendar-multiget` (RFC 4791 §7.9) of `hrefs`: ETag and calendar data.
    static func multiget(_ hrefs: [String]) -> XMLElement {
        element(
            "calendar-multiget", caldav,
            [prop([getetag, calendarData])] + hrefs.map { XMLElement("href", namespace: dav, text: $0) })
    }

    /// A PROPFIND of `names`.
    static func propfind(_ names: [XMLElement]) -> XMLElement { element("propfind", dav, [prop(names)]) }

    // MARK: Answers

    /// A multistatus that cannot be read, in the parser's or the reader's words.
    struct Unreadable: Error, CustomStringConvertible {
        var description: String
    }

    /// One `DAV:response`: its href (as `path` spells it), its own status (a member reported deleted: 404), and the
    /// properties found (those of a propstat answered 200).
    struct Response: Sendable {
        var href: String
        var status: Int?
        var found: [XMLElement] = []

        func prop(_ name: String, _ namespace: String = WebDAV.dav) -> XMLElement? {
            found.first { $0.name == name && $0.namespace == namespace }
        }

        var etag: String? { prop("getetag").map(\.text).flatMap { $0.isEmpty ? nil : $0 } }

        var isCollection: Bool { prop("resourcetype")?.child("collection", namespace: WebDAV.dav) != nil }
    }

    /// A multistatus's responses and its sync token.
    struct Multistatus: Sendable {
        var responses: [Response] = []
        var syncToken: String?
    }

    /// Reads a 207's body.
    static func multistatus(_ body: [UInt8]) throws(Unreadable) -> Multistatus {
        let root: XMLElement
        do { root = try SafeXMLReader().parse(body) } catch { throw Unreadable(description: "\(error)") }
        guard root.name == "multistatus", root.namespace == dav else {
            throw Unreadable(description: "a \(root.name) element, not a DAV:multistatus")
        }
        var answer = Multistatus(syncToken: root.child("sync-token", namespace: dav)?.text)
        for r in root.children("response", namespace: dav) {
            guard let href = r.child("href", namespace: dav)?.text, !href.isEmpty else { continue }
            var response = Response(
                href: path(href), status: r.child("status", namespace: dav).flatMap { code($0.text) })
            for propstat in r.children("propstat", namespace: dav)
            where propstat.child("status", namespace: dav).flatMap({ code($0.text) }) ?? 200 == 200 {
                response.found += propstat.child("prop", namespace: dav)?.elements ?? []
            }
            answer.responses.append(response)
        }
        return answer
    }

    /// The code of a status line ("HTTP/1.1 404 Not Found": 404).
    static func code(_ line: String) -> Int? {
        let parts = line.split(separator: " ")
        return parts.count > 1 ? Int(parts[1]) : nil
    }

    /// The path of an href or URL, without a trailing slash, in one spelling whichever a server
    /// uses: percent-escapes decoded, then only what a path segment cannot hold escaped ("@" and
    /// "%40" are the same member).
    static func path(_ href: String) -> String {
        let raw = URL(string: href)?.path(percentEncoded: true) ?? href
        let trimmed = raw.hasSuffix("/") ? String(raw.dropLast()) : raw
        guard let decoded = trimmed.removingPercentEncoding else { return trimmed }
        return decoded.addingPercentEncoding(withAllowedCharacters: pathCharacters) ?? trimmed
    }

    /// RFC 3986's pchar (unreserved, sub-delims, ":" and "@") and "/".
    static let pathCharacters = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/")

    /// `href` (a path, or a URL) as a URL on the server of `base`.
    static func url(_ href: String, on base: String) -> String {
        URL(string: href, relativeTo: URL(string: base))?.absoluteString ?? href
    }
}
