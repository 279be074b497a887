/// How a subscription tells a feed's items apart from one pass to the next (`identity`).
///
/// Some providers make up new UIDs on every export. Keyed by UID, each export of such a feed
/// would delete every item and add it again; keyed by content, the same event is the same item
/// whatever its UID, and the target keeps the UID it was first added with.
public enum ItemIdentity: String, Sendable, Hashable, CaseIterable {
    /// By UID (RFC 5545 §3.8.4.7): the item's key is its UID.
    case uid
    /// By content: the series' DTSTART, its rule (RRULE) and its SUMMARY. Overrides belong to
    /// their series, so they share its key.
    case content

    /// What begins every content key, so a stored key says which identity made it.
    public static let contentPrefix = "content:"

    /// The key of `item` under this identity.
    public func key(of item: ICalItem) -> String {
        switch self {
        case .uid: item.key
        case .content: Self.contentKey(of: item)
        }
    }

    /// True when `key` was made under this identity (after a change of the setting, the stored
    /// keys were made under the other one).
    public func made(_ key: String) -> Bool {
        (self == .content) == key.hasPrefix(Self.contentPrefix)
    }

    /// `content:` and 32 hex digits of the SHA-256 of the component type, DTSTART (its value by
    /// meaning and its TZID), RRULE and SUMMARY of the item's master. An item of overrides alone
    /// is keyed by its first override, its RECURRENCE-ID included.
    public static func contentKey(of item: ICalItem) -> String {
        guard let c = item.master ?? item.components.first else { return contentPrefix + item.key }
        var bytes = Array(c.name.utf8)
        for name in ["DTSTART", "RRULE", "SUMMARY", "RECURRENCE-ID"] {
            bytes.append(0)
            guard let p = c.property(name) else { continue }
            bytes += CanonicalForm.key(of: p.values)
            if let tz = p.parameter("TZID") { bytes += Array(";\(tz)".utf8) }
        }
        return contentPrefix + CanonicalForm.sha256Hex(bytes).prefix(32)
    }
}

extension ICalItem {
    /// The item with `uid` as the UID of every component (the target keeps the UID it was first
    /// added with, whatever UID the feed gives the item now).
    public func withUID(_ uid: String) -> ICalItem {
        var item = self
        item.uid = uid
        for i in item.components.indices {
            for j in item.components[i].properties.indices where item.components[i].properties[j].name == "UID" {
                item.components[i].properties[j] = ICalProperty("UID", .text(uid))
            }
        }
        return item
    }
}
