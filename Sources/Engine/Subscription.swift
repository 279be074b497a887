import CalendarModel
import Foundation

/// Where a feed's secret comes from: never inline in a subscription file.
public enum SecretSource: Sendable, Hashable, CustomStringConvertible {
    case environment(String)
    case file(String)

    /// The secret's value, or why it cannot be read (the message never contains the secret).
    public func read(environment: [String: String] = ProcessInfo.processInfo.environment) -> Result<
        String, SubscriptionError
    > {
        switch self {
        case .environment(let name):
            guard let v = environment[name], !v.isEmpty else {
                return .failure(.secret("the environment variable \(name) is not set"))
            }
            return .success(v)
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                return .failure(.secret("cannot read the secret file \(path)"))
            }
            let v = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !v.isEmpty else { return .failure(.secret("the secret file \(path) is empty")) }
            return .success(v)
        }
    }

    public var description: String {
        switch self {
        case .environment(let n): "environment variable \(n)"
        case .file(let p): "file \(p)"
        }
    }
}

/// How a feed is authenticated.
public enum FeedAuth: Sendable, Hashable {
    case basic(username: String, password: SecretSource)
    case bearer(SecretSource)

    /// The `Authorization` header's value, its secret read now.
    public func header() -> Result<String, SubscriptionError> {
        switch self {
        case .basic(let user, let password):
            password.read().map { "Basic " + Data("\(user):\($0)".utf8).base64EncodedString() }
        case .bearer(let token):
            token.read().map { "Bearer \($0)" }
        }
    }
}

/// What happens to target items that vanished from the feed.
public enum DeletionPolicy: String, Sendable, Hashable, CaseIterable {
    /// Delete them (behind the guards).
    case mirror
    /// Keep them.
    case keep
}

/// What happens to floating DATE-TIMEs (no Z, no TZID).
public enum FloatingPolicy: String, Sendable, Hashable, CaseIterable {
    /// Mirrored as written.
    case keep
    /// Given the calendar's X-WR-TIMEZONE as TZID (with its VTIMEZONE when the feed has one).
    case zone
}

/// One subscription: a feed mirrored into a target collection, loaded from `Subscriptions/ID.yaml`.
public struct Subscription: Sendable, Hashable {
    /// The file's stem.
    public var id: String
    public var file: String
    public var enabled: Bool
    /// The feed URL with `webcal`/`webcals` already mapped to `http`/`https`.
    /// What kind of source `source.url` is (`source.type`).
    public var sourceType = SourceType.ics
    public var sourceURL: String
    public var sourceAuth: FeedAuth?
    /// A PEM file of certificate authorities to trust for this feed (a server with a private CA),
    /// instead of the system's; nil for the system's.
    public var sourceCAFile: String?
    /// The User-Agent the feed is fetched with (`source.user-agent`); nil for Outboard's own.
    public var userAgent: String? = nil
    /// Seconds between passes (with `refreshFromFeed`, when the feed asks for no interval).
    public var refresh: Int
    /// `refresh: feed`: the feed's REFRESH-INTERVAL (or X-PUBLISHED-TTL) sets the interval,
    /// bounded by `refreshMin` and `refreshMax`.
    public var refreshFromFeed = false
    /// Seconds: the bounds of a feed's interval (`refresh-min`, `refresh-max`).
    public var refreshMin = 900
    public var refreshMax = 86_400
    /// `floating`: whether floating times are mirrored as written or given the calendar's zone.
    public var floating = FloatingPolicy.keep
    /// `zone`: where the target places the collection's floating times and all-day events (an
    /// IANA name, or a Windows name); nil for the feed's X-WR-TIMEZONE.
    public var zone: String? = nil
    /// `identity`: items told apart by UID, or by content (DTSTART, RRULE, SUMMARY) for feeds
    /// whose UIDs change on every export.
    public var identity = ItemIdentity.uid
    /// What kind of target `target.url` is (`target.type`).
    public var targetType = TargetType.calws
    public var targetURL: String
    public var targetCollection: String
    public var targetToken: SecretSource
    /// A CalDAV target's credentials (`target.auth`).
    public var targetAuth: FeedAuth? = nil
    /// Writes sent at once to a target without batches (CalDAV): `target.writes-in-flight`.
    public var writesInFlight = 4
    public var inputFilters: [String]
    public var outputFilters: [String]
    public var trustLastModified: Bool
    public var deletions: DeletionPolicy
    /// The largest share of the target's items one pass may delete (0…1).
    public var maxDeleteFraction: Double
    /// Whether a feed with no items may empty the target.
    public var allowEmpty: Bool
    public var connectTimeout: Double
    public var totalTimeout: Double
    public var maxFeedBytes: Int
    /// Seconds between full reconciles (every target item against the feed; default a day: the
    /// mirror's anti-entropy), or nil for never (then only `outboard sync --reconcile` does one).
    public var reconcileEvery: Int?
    /// The line of `target.collection` in `file` (0 when unknown), for messages about the collection.
    public var collectionLine = 0
    /// The SHA-256 of the subscription's file and of the filters it names, as loaded: engines
    /// sharing a store run it only while their digests agree.
    public var digest = ""

    /// Seconds between passes: `refresh`, or with `refresh: feed` the interval the feed asked
    /// for (`feedRefresh`, already bounded) or else `refresh` within the bounds.
    public func interval(feedRefresh: Int?) -> Int {
        guard refreshFromFeed else { return refresh }
        return feedRefresh ?? bounded(refresh)
    }

    /// The collection's zone, as the target is told it: `zone`, else the feed's X-WR-TIMEZONE
    /// (`feedZone`); nil when neither gives one.
    public func collectionZone(feedZone: String?) -> String? {
        zone ?? feedZone
    }

    /// `seconds` within `refreshMin`…`refreshMax`.
    public func bounded(_ seconds: Int) -> Int {
        min(max(seconds, refreshMin), refreshMax)
    }

    /// Seconds as the configuration writes them: `1d`, `2h`, `15m`, `90s`.
    public static func durationText(_ seconds: Int) -> String {
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60)] where seconds > 0 && seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }

    /// The feed's host, for logs (a feed URL may carry a secret: only the host is ever logged).
    public var sourceHost: String {
        if sourceURL.hasPrefix("file:") { return "file" }
        return URLComponents(string: sourceURL)?.host ?? "?"
    }
}

/// Problems reading or using a subscription.
public enum SubscriptionError: Error, Sendable, Hashable, CustomStringConvertible {
    case secret(String)

    public var description: String {
        switch self {
        case .secret(let m): m
        }
    }
}

/// The kinds of source a subscription reads (`source.type`); `Composition` picks each one's
/// implementation.
public enum SourceType: String, Sendable, Hashable, CaseIterable {
    /// An iCalendar feed over http, https, webcal or file: a whole body with its validators.
    case ics
    /// A CalDAV calendar collection over http or https, read by what changed since a sync token.
    case caldav
}

/// The kinds of target a subscription writes (`target.type`).
public enum TargetType: String, Sendable, Hashable, CaseIterable {
    /// A CalWS-SOAP endpoint, such as `outboard-target`.
    case calws
    /// A CalDAV calendar collection (Radicale, Nextcloud, Fastmail, iCloud, ...).
    case caldav
}
