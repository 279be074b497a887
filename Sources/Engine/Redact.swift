/// The one redaction of URLs for every message, log line and status: a URL may carry a password
/// (`https://user:secret@host/…`) or a token in its query (`…/feed.ics?token=…`, as private feed
/// links do), so only its scheme, host, port and path are ever shown. Works on text that is not a
/// valid URL too (a validation error shows what it could not parse).
public enum Redact {
    /// `raw` without userinfo, query or fragment; `?…` marks a removed query.
    public static func url(_ raw: String) -> String {
        var rest = Substring(raw)
        var out = ""
        if let scheme = rest.range(of: "://") {
            out = String(rest[..<scheme.upperBound])
            rest = rest[scheme.upperBound...]
        }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") {
            out += rest[rest.index(after: at)..<authorityEnd]
        } else {
            out += authority
        }
        let tail = rest[authorityEnd...]
        if let cut = tail.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            out += tail[..<cut]
            if tail[cut] == "?" { out += "?…" }
        } else {
            out += tail
        }
        return out
    }
}
