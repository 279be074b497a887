/// What the engine remembers about one item it mirrored.
public struct ItemState: Sendable, Hashable {
    public var key: String
    /// The canonical hash of the item after filters.
    public var hash: String
    public var href: String
    public var changeToken: String
    public var lastModified: String?
    /// The iCalendar text of what was last applied (after filters): with trust-lastmod, changes
    /// are diffed against it instead of a fetched copy.
    public var content: String?
    /// The hex SHA-256 of the feed's bytes that `hash` was computed from, with the filters and
    /// the rest of the calendar (see `FeedScan`): while they are the same, the item is the same.
    public var source: String?
    /// The source's resource the item came from (a collection's member href), for a source that
    /// reports deletions by href; nil for a whole feed.
    public var origin: String?

    public init(
        key: String, hash: String, href: String, changeToken: String, lastModified: String? = nil,
        content: String? = nil, source: String? = nil, origin: String? = nil
    ) {
        self.key = key
        self.hash = hash
        self.href = href
        self.changeToken = changeToken
        self.lastModified = lastModified
        self.content = content
        self.source = source
        self.origin = origin
    }
}
