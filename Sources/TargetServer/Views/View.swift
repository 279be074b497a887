/// A named set of collections published as one feed (`GET /views/NAME.ics`) and usable as one
/// availability member (`views/NAME`).
public struct View: Sendable, Hashable {
    /// What a view's feed shows.
    public enum Detail: String, Sendable, Hashable, CaseIterable {
        /// Every component of every collection, as stored.
        case full
        /// Busy and tentative time only (see `BusyFeed`): no title, place, attendee or description.
        case busy
    }

    public var name: String
    public var collections: [String]
    public var detail: Detail

    public init(name: String, collections: [String], detail: Detail = .full) {
        self.name = name
        self.collections = collections
        self.detail = detail
    }

    /// `views/NAME`: how availability members and the tokens file name a view.
    public var target: String { "views/" + name }

    /// The view a `views/NAME` target names, if it has that form.
    /// The target a CalWS href names: `views/NAME` for `/views/NAME`, else the href itself.
    static func target(ofHref href: String) -> String {
        href.hasPrefix("/views/") ? String(href.dropFirst()) : href
    }

    static func name(ofTarget target: String) -> String? {
        guard target.hasPrefix("views/") else { return nil }
        let name = String(target.dropFirst(6))
        return isName(name) ? name : nil
    }

    /// Letters, digits, `-`, `_`, `.`, `~` (as a path segment), not `.` or `..`.
    static func isName(_ name: String) -> Bool {
        Paths.isSegment(Substring(name))
    }
}
