import CalendarModel
import Filters
import Foundation
import Recurrence
import Yams
import YAMLConfig

/// Loads and validates subscription files, collecting every problem as `file:line: message`.
/// Everything a pass needs is checked here (URLs, filters, secrets, durations), so nothing that
/// loads can fail later for a reason this could have seen.
public enum SubscriptionLoader {
    static let topKeys = [
        "enabled", "source", "refresh", "refresh-min", "refresh-max", "target", "filters", "trust-lastmod", "deletions",
        "guard", "timeouts", "max-feed-bytes", "reconcile", "floating",
        "identity", "zone",
    ]

    /// Everything in a configuration: the subscriptions, the filters they use, and every problem.
    public struct Configuration: Sendable {
        public var subscriptions: [Subscription]
        public var filters: [String: Filter]
        public var problems: [ConfigProblem]
    }

    /// Loads every `*.yaml` in `subscriptionsDirectory` and every filter in `filtersDirectory`.
    /// `secrets: false` leaves secrets unread (what only shows state, such as `outboard status`,
    /// needs none).
    public static func load(
        subscriptionsDirectory: String, filtersDirectory: String,
        environment: [String: String] = ProcessInfo.processInfo.environment, secrets: Bool = true
    ) -> Configuration {
        var problems: [ConfigProblem] = []
        var filters: [String: Filter] = [:]
        for (name, path) in yamlFiles(filtersDirectory) {
            let text = String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
            switch FilterLoader.load(name: name, text: text, file: path) {
            case .success(let f): filters[name] = f
            case .failure(let p): problems += p.problems
            }
        }
        var subs: [Subscription] = []
        let files = yamlFiles(subscriptionsDirectory)
        if files.isEmpty {
            problems.append(
                ConfigProblem(file: subscriptionsDirectory, line: 0, message: "no subscription files (*.yaml) here"))
        }
        for (id, path) in files {
            let text = String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
            switch load(id: id, text: text, file: path, filters: filters, environment: environment, secrets: secrets) {
            case .success(let s): subs.append(s)
            case .failure(let p): problems += p.problems
            }
        }
        // Two subscriptions writing one collection would delete each other's items.
        var byTarget: [String: Subscription] = [:]
        for s in subs where s.enabled {
            let key = s.targetURL + " " + s.targetCollection
            if let other = byTarget[key] {
                problems.append(
                    ConfigProblem(
                        file: s.file, line: s.collectionLine,
                        message:
                            "writes the same collection \(s.targetCollection) at \(Redact.url(s.targetURL)) as \(other.id) (\(other.file)); give each subscription its own collection"
                    ))
            } else {
                byTarget[key] = s
            }
        }
        return Configuration(subscriptions: subs, filters: filters, problems: problems)
    }

    /// The `*.yaml` files of a directory as (stem, path), sorted.
    public static func yamlFiles(_ dir: String) -> [(String, String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { n in
            (String(n.prefix(upTo: n.lastIndex(of: ".")!)), (dir as NSString).appendingPathComponent(n))
        }
    }

    /// One subscription, or every problem in its file: one reader per section, each collecting
    /// its problems (`source`, `refresh`, `target`, `filters`, the guards and timeouts, the
    /// policies), then every key the file may not hold.
    public static func load(
        id: String, text: String, file: String, filters: [String: Filter],
        environment: [String: String] = ProcessInfo.processInfo.environment, secrets: Bool = true
    ) -> Result<Subscription, ConfigProblems> {
        let reader = ConfigReader(file: file)
        guard let root = reader.root(text) else { return .failure(ConfigProblems(reader.problems)) }
        var s = Subscription(
            id: id, file: file, enabled: true, sourceURL: "", sourceAuth: nil, refresh: 3600, targetURL: "",
            targetCollection: "", targetToken: .environment("OUTBOARD_TARGET_TOKEN"), inputFilters: [],
            outputFilters: [],
            trustLastModified: false, deletions: .mirror, maxDeleteFraction: 0.5, allowEmpty: false,
            connectTimeout: 10, totalTimeout: 60, maxFeedBytes: 50_000_000, reconcileEvery: 86_400)
        s.enabled = root.bool("enabled") ?? true
        // A disabled subscription's secrets need not exist yet.
        let secretsFrom = s.enabled && secrets ? environment : nil
        if let source = root.map("source") {
            readSource(source, reader, &s, file: file, environment: secretsFrom)
        } else {
            reader.problem(line: root.line, "source is missing: give source.url")
        }
        readRefresh(root, reader, &s)
        if let target = root.map("target") {
            readTarget(target, reader, &s, environment: secretsFrom)
        } else {
            reader.problem(
                line: root.line, "target is missing: give target.url, target.collection and target.token-env")
        }
        if let f = root.map("filters") { readFilters(f, reader, &s, filters: filters) }
        readDeletions(root, reader, &s)
        if let g = root.map("guard") { readGuard(g, reader, &s) }
        if let t = root.map("timeouts") { readTimeouts(t, reader, &s) }
        readPolicies(root, reader, &s)
        root.rejectUnknownKeys(allowed: topKeys)
        // What engines sharing a store compare: the file and the filters it names, as written.
        let named = (s.inputFilters + s.outputFilters).map { "\($0) \(filters[$0]?.source ?? "")" }
        s.digest = CanonicalForm.sha256Hex(Array(([text] + named).joined(separator: "\n").utf8))
        return reader.problems.isEmpty ? .success(s) : .failure(ConfigProblems(reader.problems))
    }

    /// `source`: the feed's URL (webcal mapped, a relative `file:` path against the file's
    /// directory), its authentication, CA file and User-Agent. `environment`: where secrets are
    /// read from, nil to leave them unread.
    static func readSource(
        _ sourceMap: ConfigMap, _ reader: ConfigReader, _ s: inout Subscription, file: String,
        environment: [String: String]?
    ) {
        let directory = (file as NSString).deletingLastPathComponent
        if let t = choice(SourceType.self, "type", in: sourceMap, named: "source.type", reader) { s.sourceType = t }
        if let url = sourceMap.string("url") {
            if s.sourceType == .caldav, !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                reader.problem(
                    line: sourceMap.line(of: "url"),
                    "source.url \"\(Redact.url(url))\" is not an http or https URL of a CalDAV calendar collection")
            } else if let mapped = feedURL(url, relativeTo: directory) {
                s.sourceURL = mapped
            } else {
                reader.problem(
                    line: sourceMap.line(of: "url"),
                    "source.url \"\(Redact.url(url))\" is not an http, https, webcal, webcals or file URL")
            }
        } else {
            reader.problem(line: sourceMap.line, "source.url is missing")
        }
        if let m = sourceMap.map("auth", context: "source.auth") {
            s.sourceAuth = auth(m, named: "source.auth", reader, environment)
        }
        if let ca = sourceMap.string("ca-file") {
            let path = ca.hasPrefix("/") ? ca : (directory as NSString).appendingPathComponent(ca)
            if FileManager.default.isReadableFile(atPath: path) {
                s.sourceCAFile = path
            } else {
                reader.problem(line: sourceMap.line(of: "ca-file"), "source.ca-file \"\(ca)\" cannot be read")
            }
        }
        if let agent = sourceMap.string("user-agent") {
            // Sent as a header line: printable ASCII only, so it can neither break the request
            // nor be mangled by a server that reads only ASCII.
            if !agent.trimmingCharacters(in: .whitespaces).isEmpty,
                agent.utf8.allSatisfy({ (0x20...0x7E).contains($0) })
            {
                s.userAgent = agent
            } else {
                let shown = agent.unicodeScalars.map {
                    (0x20...0x7E).contains($0.value) ? String($0) : "\\u{\(String($0.value, radix: 16))}"
                }.joined()
                reader.problem(
                    line: sourceMap.line(of: "user-agent"),
                    "source.user-agent \"\(shown)\" should be non-empty printable ASCII, such as Mozilla/5.0 (compatible; Outboard)"
                )
            }
        }
        sourceMap.rejectUnknownKeys(allowed: ["type", "url", "auth", "ca-file", "user-agent"])
    }

    /// The value of `key` in `map` as one of `Choice`'s cases (nil when absent), or a problem
    /// naming the cases: "`name` should be a or b, not "x"".
    static func choice<Choice: RawRepresentable & CaseIterable>(
        _: Choice.Type, _ key: String, in map: ConfigMap, named name: String, _ reader: ConfigReader
    ) -> Choice? where Choice.RawValue == String {
        guard let value = map.string(key) else { return nil }
        if let choice = Choice(rawValue: value) { return choice }
        let names = Choice.allCases.map(\.rawValue)
        let cases = names.count > 1 ? names.dropLast().joined(separator: ", ") + " or " + names.last! : names[0]
        reader.problem(line: map.line(of: key), "\(name) should be \(cases), not \"\(value)\"")
        return nil
    }

    /// `refresh` (a duration, or `feed`) and its bounds.
    static func readRefresh(_ root: ConfigMap, _ reader: ConfigReader, _ s: inout Subscription) {
        if let r = root.string("refresh") {
            if r == "feed" {
                s.refreshFromFeed = true
            } else if let secs = duration(r), secs >= 30 {
                s.refresh = secs
            } else {
                reader.problem(
                    line: root.line(of: "refresh"),
                    "refresh \"\(r)\" should be a duration of 30s or more, such as 15m, 1h or 1d, or feed")
            }
        }
        refreshBounds(root, reader, &s)
    }

    /// `target`: for CalWS, the endpoint, the collection and where its token is read from; for
    /// CalDAV, the collection's URL and its credentials (`target.auth`, as `source.auth`). Secrets
    /// are read now unless `environment` is nil. Both take `writes-in-flight`.
    static func readTarget(
        _ targetMap: ConfigMap, _ reader: ConfigReader, _ s: inout Subscription, environment: [String: String]?
    ) {
        if let t = choice(TargetType.self, "type", in: targetMap, named: "target.type", reader) { s.targetType = t }
        if let n = targetMap.node("writes-in-flight") {
            if let v = n.int, (1...64).contains(v) {
                s.writesInFlight = v
            } else {
                reader.problem(n, "target.writes-in-flight should be a whole number from 1 to 64, such as 4")
            }
        }
        switch s.targetType {
        case .calws: readCalWSTarget(targetMap, reader, &s, environment: environment)
        case .caldav: readCalDAVTarget(targetMap, reader, &s, environment: environment)
        }
    }

    static func readCalWSTarget(
        _ targetMap: ConfigMap, _ reader: ConfigReader, _ s: inout Subscription, environment: [String: String]?
    ) {
        if let url = targetMap.string("url") {
            if let u = URL(string: url), ["http", "https"].contains(u.scheme ?? ""), u.host != nil {
                s.targetURL = url
            } else {
                reader.problem(
                    line: targetMap.line(of: "url"),
                    "target.url \"\(Redact.url(url))\" is not an http(s) URL of a CalWS endpoint, such as http://127.0.0.1:8765/calws"
                )
            }
        } else {
            reader.problem(line: targetMap.line, "target.url is missing (the CalWS endpoint)")
        }
        if let c = targetMap.string("collection") {
            s.collectionLine = targetMap.line(of: "collection")
            if c.hasPrefix("/"), !c.hasSuffix("/"), !c.contains("//"), !c.contains(" ") {
                s.targetCollection = c
            } else {
                reader.problem(
                    line: targetMap.line(of: "collection"),
                    "target.collection \"\(c)\" should be a path such as /public/holidays")
            }
        } else {
            reader.problem(line: targetMap.line, "target.collection is missing")
        }
        let env = targetMap.string("token-env")
        let path = targetMap.string("token-file")
        switch (env, path) {
        case (let e?, nil): s.targetToken = .environment(e)
        case (nil, let p?): s.targetToken = .file(p)
        case (nil, nil):
            reader.problem(line: targetMap.line, "target needs token-env (an environment variable) or token-file")
        default: reader.problem(line: targetMap.line, "target takes token-env or token-file, not both")
        }
        if let environment, case .failure(let e) = s.targetToken.read(environment: environment),
            env != nil || path != nil
        {
            reader.problem(
                line: targetMap.line(of: env != nil ? "token-env" : "token-file"),
                "the target token cannot be read: \(e)")
        }
        if targetMap.node("auth") != nil {
            reader.problem(
                line: targetMap.line(of: "auth"),
                "target.auth is for a CalDAV target (target.type: caldav); a CalWS target takes token-env or token-file"
            )
        }
        targetMap.rejectUnknownKeys(allowed: [
            "type", "url", "collection", "token-env", "token-file", "auth", "writes-in-flight",
        ])
    }

    /// A CalDAV target: `target.url` is the calendar collection (its path is the collection the
    /// pass writes), `target.auth` its credentials.
    static func readCalDAVTarget(
        _ targetMap: ConfigMap, _ reader: ConfigReader, _ s: inout Subscription, environment: [String: String]?
    ) {
        if let url = targetMap.string("url") {
            if let u = URL(string: url), ["http", "https"].contains(u.scheme ?? ""), u.host != nil,
                u.path(percentEncoded: true).count > 1
            {
                s.targetURL = url
                let path = u.path(percentEncoded: true)
                s.targetCollection = path.hasSuffix("/") ? String(path.dropLast()) : path
                s.collectionLine = targetMap.line(of: "url")
            } else {
                reader.problem(
                    line: targetMap.line(of: "url"),
                    "target.url \"\(Redact.url(url))\" is not an http(s) URL of a CalDAV calendar collection, such as https://dav.example.org/calendars/team/holidays/"
                )
            }
        } else {
            reader.problem(line: targetMap.line, "target.url is missing (the CalDAV calendar collection)")
        }
        for key in ["collection", "token-env", "token-file"] where targetMap.node(key) != nil {
            reader.problem(
                line: targetMap.line(of: key),
                key == "collection"
                    ? "target.collection is not used by a CalDAV target: target.url names the collection"
                    : "a CalDAV target takes its credentials from target.auth (basic or bearer), not \(key)")
        }
        if let m = targetMap.map("auth", context: "target.auth") {
            s.targetAuth = auth(m, named: "target.auth", reader, environment)
        }
        targetMap.rejectUnknownKeys(allowed: [
            "type", "url", "collection", "token-env", "token-file", "auth", "writes-in-flight",
        ])
    }

    /// `filters`: input and output filters by name, each of its stage.
    static func readFilters(
        _ filtersMap: ConfigMap, _ reader: ConfigReader, _ s: inout Subscription, filters: [String: Filter]
    ) {
        s.inputFilters = filtersMap.strings("input") ?? []
        s.outputFilters = filtersMap.strings("output") ?? []
        for (stage, names, key) in [
            (FilterStage.input, s.inputFilters, "input"), (.output, s.outputFilters, "output"),
        ] {
            for name in names {
                guard let filter = filters[name] else {
                    reader.problem(
                        line: filtersMap.line(of: key),
                        "unknown filter \"\(name)\" in filters.\(key)\(Suggestion.hint(name, Array(filters.keys).sorted()))"
                    )
                    continue
                }
                if filter.stage != stage {
                    reader.problem(
                        line: filtersMap.line(of: key),
                        "filter \"\(name)\" is an \(filter.stage.rawValue) filter, listed under filters.\(key)")
                }
            }
        }
        filtersMap.rejectUnknownKeys(allowed: ["input", "output"])
    }

    /// `guard`: how much one pass may delete, and whether an empty feed may empty the target.
    static func readGuard(_ guardMap: ConfigMap, _ reader: ConfigReader, _ s: inout Subscription) {
        if let n = guardMap.node("max-delete-fraction") {
            if let v = n.float, v >= 0, v <= 1 {
                s.maxDeleteFraction = v
            } else {
                reader.problem(n, "guard.max-delete-fraction should be a number from 0 to 1, such as 0.5")
            }
        }
        s.allowEmpty = guardMap.bool("allow-empty") ?? false
        guardMap.rejectUnknownKeys(allowed: ["max-delete-fraction", "allow-empty"])
    }

    /// `timeouts`: connect and total, as durations.
    static func readTimeouts(_ timeoutsMap: ConfigMap, _ reader: ConfigReader, _ s: inout Subscription) {
        for key in ["connect", "total"] {
            guard let text = timeoutsMap.string(key) else { continue }
            guard let v = duration(text), v > 0 else {
                reader.problem(
                    line: timeoutsMap.line(of: key), "timeouts.\(key) \"\(text)\" should be a duration such as 10s")
                continue
            }
            if key == "connect" { s.connectTimeout = Double(v) } else { s.totalTimeout = Double(v) }
        }
        timeoutsMap.rejectUnknownKeys(allowed: ["connect", "total"])
    }

    /// `trust-lastmod` and `deletions`.
    static func readDeletions(_ root: ConfigMap, _ reader: ConfigReader, _ s: inout Subscription) {
        s.trustLastModified = root.bool("trust-lastmod") ?? false
        if let p = choice(DeletionPolicy.self, "deletions", in: root, named: "deletions", reader) { s.deletions = p }
    }

    /// The other top-level choices: max-feed-bytes, reconcile, floating, zone and identity.
    static func readPolicies(_ root: ConfigMap, _ reader: ConfigReader, _ s: inout Subscription) {
        if let b = root.string("max-feed-bytes") {
            if let v = bytes(b), v > 0 {
                s.maxFeedBytes = v
            } else {
                reader.problem(
                    line: root.line(of: "max-feed-bytes"), "max-feed-bytes \"\(b)\" should be a size such as 50MB")
            }
        }
        if let r = root.string("reconcile") {
            if r == "never" {
                s.reconcileEvery = nil
            } else if let secs = duration(r), secs >= 60 {
                s.reconcileEvery = secs
            } else {
                reader.problem(
                    line: root.line(of: "reconcile"),
                    "reconcile \"\(r)\" should be a duration of a minute or more, such as 1d, or never")
            }
        }
        readZones(root, reader, &s)
        if let i = choice(ItemIdentity.self, "identity", in: root, named: "identity", reader) { s.identity = i }
    }

    /// `floating` and `zone`.
    static func readZones(_ root: ConfigMap, _ reader: ConfigReader, _ s: inout Subscription) {
        if let f = choice(FloatingPolicy.self, "floating", in: root, named: "floating", reader) { s.floating = f }
        if let z = root.string("zone") {
            if ZoneResolver(timezones: [], calendarZone: z, options: ExpansionOptions()).floatingFromCalendar {
                s.zone = z
            } else {
                reader.problem(
                    line: root.line(of: "zone"),
                    "zone \"\(z)\" is not a time zone this machine knows: give an IANA name such as Europe/Berlin"
                )
            }
        }
    }

    /// `refresh-min` and `refresh-max`: durations of 30 s or more, min not above max, and only
    /// with `refresh: feed` (elsewhere they would bound nothing).
    static func refreshBounds(_ root: ConfigMap, _ reader: ConfigReader, _ s: inout Subscription) {
        var given: [String] = []
        for key in ["refresh-min", "refresh-max"] {
            guard let text = root.string(key) else { continue }
            given.append(key)
            guard let secs = duration(text), secs >= 30 else {
                reader.problem(
                    line: root.line(of: key),
                    "\(key) \"\(text)\" should be a duration of 30s or more, such as 15m or 1d")
                continue
            }
            if key == "refresh-min" { s.refreshMin = secs } else { s.refreshMax = secs }
        }
        if !given.isEmpty, !s.refreshFromFeed {
            reader.problem(
                line: root.line(of: given[0]),
                "\(given.joined(separator: " and ")) bound\(given.count == 1 ? "s" : "") the feed's own interval: set refresh: feed, or remove \(given.count == 1 ? "it" : "them")"
            )
        } else if s.refreshMin > s.refreshMax {
            reader.problem(
                line: root.line(of: "refresh-min"),
                "refresh-min (\(Subscription.durationText(s.refreshMin))) is above refresh-max (\(Subscription.durationText(s.refreshMax)))"
            )
        }
    }

    /// `webcal://` means http and `webcals://` https (the host, path and query are kept).
    /// `file:feeds/x.ics` (no slashes) is relative to the subscription file's directory.
    public static func feedURL(_ raw: String, relativeTo directory: String = "") -> String? {
        var url = raw
        let lower = raw.lowercased()
        if lower.hasPrefix("file:"), !lower.hasPrefix("file:/") {
            let path = ((directory.isEmpty ? "." : directory) as NSString).appendingPathComponent(
                String(raw.dropFirst(5)))
            return URL(fileURLWithPath: path).standardizedFileURL.absoluteString
        }
        if lower.hasPrefix("webcals://") {
            url = "https://" + raw.dropFirst(10)
        } else if lower.hasPrefix("webcal://") {
            url = "http://" + raw.dropFirst(9)
        }
        guard let u = URL(string: url), let scheme = u.scheme?.lowercased() else { return nil }
        switch scheme {
        case "http", "https": return u.host == nil ? nil : url
        case "file": return u.path.isEmpty ? nil : url
        default: return nil
        }
    }

    /// `environment` nil: the secrets are not read (a disabled subscription).
    static func auth(
        _ m: ConfigMap, named name: String, _ reader: ConfigReader, _ environment: [String: String]?
    ) -> FeedAuth? {
        defer {
            m.rejectUnknownKeys(allowed: [
                "type", "username", "password-env", "password-file", "token-env", "token-file",
            ])
        }
        func secret(_ prefix: String) -> SecretSource? {
            let env = m.string(prefix + "-env")
            let file = m.string(prefix + "-file")
            let source: SecretSource
            switch (env, file) {
            case (let e?, nil): source = .environment(e)
            case (nil, let f?): source = .file(f)
            case (nil, nil):
                reader.problem(
                    line: m.line, "\(name) needs \(prefix)-env or \(prefix)-file (secrets are never written inline)"
                )
                return nil
            default:
                reader.problem(line: m.line, "\(name) takes \(prefix)-env or \(prefix)-file, not both")
                return nil
            }
            if let environment, case .failure(let e) = source.read(environment: environment) {
                reader.problem(
                    line: m.line(of: prefix + (env != nil ? "-env" : "-file")),
                    "the \(prefix) of \(name) cannot be read: \(e)")
            }
            return source
        }
        switch m.string("type") {
        case "basic":
            guard let user = m.string("username") else {
                reader.problem(line: m.line, "\(name) of type basic needs username")
                return nil
            }
            return secret("password").map { .basic(username: user, password: $0) }
        case "bearer":
            return secret("token").map { .bearer($0) }
        case let other:
            reader.problem(
                line: m.line(of: "type"),
                "\(name).type should be basic or bearer\(other.map { ", not \"\($0)\"" } ?? "")")
            return nil
        }
    }

    /// `30s`, `15m`, `1h`, `1d` (or plain seconds) in seconds.
    public static func duration(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard let unit = t.last else { return nil }
        let factor: Int
        var digits = Substring(t)
        switch unit {
        case "s":
            factor = 1
            digits = digits.dropLast()
        case "m":
            factor = 60
            digits = digits.dropLast()
        case "h":
            factor = 3600
            digits = digits.dropLast()
        case "d":
            factor = 86400
            digits = digits.dropLast()
        default: factor = 1
        }
        guard let n = Int(digits), n >= 0 else { return nil }
        return n * factor
    }

    /// `50MB`, `10 MiB`, `512kB`, or plain bytes.
    public static func bytes(_ text: String) -> Int? {
        let t = text.replacingOccurrences(of: " ", with: "").lowercased()
        for (suffix, factor) in [
            ("gib", 1 << 30), ("mib", 1 << 20), ("kib", 1 << 10), ("gb", 1_000_000_000), ("mb", 1_000_000),
            ("kb", 1000), ("b", 1),
        ] where t.hasSuffix(suffix) {
            return Int(t.dropLast(suffix.count)).map { $0 * factor }
        }
        return Int(t)
    }
}
