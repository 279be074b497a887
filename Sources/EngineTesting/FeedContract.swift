import CalendarModel
import Engine
import Foundation

/// What every `FeedSource` must do: a new source is admitted by running each requirement against
/// it from its own tests (as `TargetContract` for targets). A source answers whole bodies with
/// validators (a feed) or changes since a token (a collection); each requirement accepts either
/// and checks what that kind promises.
public enum FeedContract {
    /// An event a fixture publishes: at `href` in a collection (a server may put it under a path of
    /// its own, keeping the last segment), or one VEVENT of a whole feed.
    public struct Event: Sendable, Hashable {
        public var href: String
        public var uid: String
        public var summary: String

        public init(href: String, uid: String, summary: String) {
            self.href = href
            self.uid = uid
            self.summary = summary
        }

        /// The event as one VCALENDAR.
        public var calendar: [UInt8] { FeedContract.calendar([self]) }
    }

    /// The source under test, as a fixture gives it.
    public struct Subject: ContractSubject {
        public var source: any FeedSource
        /// A subscription of the feed (or collection) the fixture publishes to.
        public var subscription: Subscription
        /// Replaces what the feed holds with these events (a collection deletes the hrefs that
        /// are no longer among them).
        public var publish: @Sendable ([Event]) async throws -> Void
        /// The same feed with credentials the source refuses; nil for a source without credentials.
        public var refused: Subscription?
        /// The same feed with a `max-feed-bytes` of 1 kB.
        public var small: Subscription
        public var stop: @Sendable () -> Void

        public init(
            source: any FeedSource, subscription: Subscription,
            publish: @escaping @Sendable ([Event]) async throws -> Void,
            refused: Subscription?, small: Subscription, stop: @escaping @Sendable () -> Void = {}
        ) {
            self.source = source
            self.subscription = subscription
            self.publish = publish
            self.refused = refused
            self.small = small
            self.stop = stop
        }
    }

    public typealias Requirement = ContractRequirement<Subject>

    public static let requirements: [Requirement] = [
        Requirement("read from no position, a source gives everything", everything),
        Requirement("read from its own position with nothing changed, it is not modified", unchanged),
        Requirement("a change and an addition are seen from the last position", changes),
        Requirement("a deletion is seen from the last position", deletions),
        Requirement("a token it never gave reads whole or is refused as invalid", foreignToken),
        Requirement("from the members last applied, a collection answers what differs", members),
        Requirement("refused credentials and a feed over its size limit are errors", refusals),
    ]

    static let three = (1...3).map { Event(href: "/c/e\($0).ics", uid: "e\($0)@contract", summary: "Event \($0)") }

    // MARK: Requirements

    static func everything(_ s: Subject) async throws {
        try await s.publish(three)
        let (uids, position) = try await read(s, from: nil)
        try expect(uids.seen == Set(three.map(\.uid)), "every event is read, not \(uids.seen.sorted())")
        try expect(uids.complete, "read from no position, the answer is the whole feed")
        try expect(position != nil, "the answer gives a position to read from next time")
    }

    static func unchanged(_ s: Subject) async throws {
        try await s.publish(three)
        let (_, position) = try await read(s, from: nil)
        let again = try await s.source.fetch(s.subscription, from: position)
        guard case .notModified = again else { throw ContractViolation("nothing changed, yet the answer was \(again)") }
    }

    static func changes(_ s: Subject) async throws {
        try await s.publish(three)
        let (_, position) = try await read(s, from: nil)
        var next = three
        next[1].summary = "Event 2, moved"
        next.append(Event(href: "/c/e4.ics", uid: "e4@contract", summary: "Event 4"))
        try await s.publish(next)
        let (seen, moved) = try await read(s, from: position)
        try expect(moved != nil && moved != position, "the position moves with a change")
        if seen.complete {
            try expect(seen.seen == Set(next.map(\.uid)), "a whole body holds every event, not \(seen.seen.sorted())")
        } else {
            try expect(
                seen.seen == ["e2@contract", "e4@contract"], "changes name what changed, not \(seen.seen.sorted())")
        }
        try expect(seen.summaries["e2@contract"] == "Event 2, moved", "the change is in the answer")
    }

    static func deletions(_ s: Subject) async throws {
        try await s.publish(three)
        let (_, position) = try await read(s, from: nil)
        try await s.publish(Array(three.dropLast()))
        let (seen, _) = try await read(s, from: position)
        if seen.complete {
            try expect(seen.seen == ["e1@contract", "e2@contract"], "a whole body lacks the deleted event")
        } else {
            // A collection names its members its own way: the last segment is the event's name.
            let names = seen.deleted.map { $0.split(separator: "/").last.map(String.init) ?? $0 }
            try expect(names == ["e3.ics"], "changes name the deleted href, not \(seen.deleted)")
        }
    }

    static func foreignToken(_ s: Subject) async throws {
        try await s.publish(three)
        let answer = try await s.source.fetch(s.subscription, from: .token("never-given"))
        switch answer {
        case .tokenInvalid: return
        case .body(let bytes, _, _):
            try expect(try uids(bytes) == Set(three.map(\.uid)), "a feed that has no tokens reads whole")
        default: throw ContractViolation("a token it never gave must read whole or be invalid, not \(answer)")
        }
    }

    static func members(_ s: Subject) async throws {
        try await s.publish(three)
        guard case .changes(let all) = try await s.source.fetch(s.subscription, from: nil) else {
            let again = try await s.source.fetch(s.subscription, from: .members([:]))
            guard case .body = again else {
                throw ContractViolation("a whole feed reads whole from members, not \(again)")
            }
            return
        }
        // As the store would hold them: e3 at an ETag it no longer has, and a member it lost.
        var known = Dictionary(all.changed.map { ($0.href, $0.etag ?? "") }, uniquingKeysWith: { a, _ in a })
        guard let e3 = all.changed.first(where: { $0.href.hasSuffix("/e3.ics") })?.href else {
            throw ContractViolation("the collection names e3 by an href ending in /e3.ics")
        }
        let lost = String(e3.dropLast("e3.ics".count)) + "lost.ics"
        known[e3] = "\"not-its-etag\""
        known[lost] = "\"1\""
        var next = three
        next[0].summary = "Event 1, moved"
        next.append(Event(href: "/c/e4.ics", uid: "e4@contract", summary: "Event 4"))
        try await s.publish(next)
        guard case .changes(let c) = try await s.source.fetch(s.subscription, from: .members(known)) else {
            throw ContractViolation("from members a collection answers changes")
        }
        var seen = Seen()
        for resource in c.changed { try take(resource.body, &seen) }
        try expect(
            seen.seen == ["e1@contract", "e3@contract", "e4@contract"],
            "the members whose ETag differs, and the new one, not \(seen.seen.sorted())")
        try expect(c.deleted == [lost], "the member it does not have is deleted, not \(c.deleted)")
        try expect(!c.complete, "an answer from members is not the whole collection")
    }

    static func refusals(_ s: Subject) async throws {
        try await s.publish(
            (1...40).map { Event(href: "/c/m\($0).ics", uid: "m\($0)@contract", summary: "Many \($0)") })
        do {
            _ = try await s.source.fetch(s.small, from: nil)
            throw ContractViolation("a feed over max-feed-bytes was read")
        } catch let error as FetchError {
            guard case .tooLarge(let id, _) = error, id == s.small.id else {
                throw ContractViolation("a feed over max-feed-bytes is tooLarge naming the subscription, not \(error)")
            }
        }
        guard let refused = s.refused else { return }
        do {
            _ = try await s.source.fetch(refused, from: nil)
            throw ContractViolation("refused credentials read the feed")
        } catch let error as FetchError {
            guard case .http(let id, _, let status, _) = error, id == refused.id, [401, 403].contains(status) else {
                throw ContractViolation("refused credentials are HTTP 401 or 403 naming the subscription, not \(error)")
            }
        }
    }

    // MARK: Helpers

    /// What an answer held: the UIDs and summaries seen, the hrefs deleted, whether it was whole.
    struct Seen {
        var seen: Set<String> = []
        var summaries: [String: String] = [:]
        var deleted: [String] = []
        var complete = false
    }

    /// Reads from `position`; the answer must carry something (not a 304, not an invalid token).
    static func read(_ s: Subject, from position: FeedPosition?) async throws -> (Seen, FeedPosition?) {
        var seen = Seen()
        switch try await s.source.fetch(s.subscription, from: position) {
        case .body(let bytes, let etag, let lastModified):
            seen.complete = true
            try take(bytes, &seen)
            let validators =
                etag == nil && lastModified == nil
                ? nil : FeedPosition.validators(etag: etag, lastModified: lastModified)
            return (seen, validators)
        case .changes(let c):
            seen.complete = c.complete
            seen.deleted = c.deleted
            for resource in c.changed { try take(resource.body, &seen) }
            // A collection that gives no token is read next from its members, as the pass does.
            guard c.token.isEmpty, c.complete else { return (seen, .token(c.token)) }
            return (seen, .members(Dictionary(c.changed.map { ($0.href, $0.etag ?? "") }) { a, _ in a }))
        case let other:
            throw ContractViolation("a read from \(String(describing: position)) answered \(other)")
        }
    }

    static func take(_ bytes: [UInt8], _ seen: inout Seen) throws {
        for item in ItemGrouper.items(from: try ICalParser().parse(bytes)).items {
            guard let uid = item.uid else { continue }
            seen.seen.insert(uid)
            seen.summaries[uid] = item.components.first?.property("SUMMARY")?.text
        }
    }

    static func uids(_ bytes: [UInt8]) throws -> Set<String> {
        var seen = Seen()
        try take(bytes, &seen)
        return seen.seen
    }

    /// One VCALENDAR holding `events`, as a feed publishes them.
    /// `value` as an iCalendar TEXT value: backslash, comma and semicolon escaped (a server may cut
    /// an unescaped comma: Radicale keeps only what precedes it).
    static func text(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ",", with: "\\,")
            .replacingOccurrences(of: ";", with: "\\;")
    }

    public static func calendar(_ events: [Event]) -> [UInt8] {
        var lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Outboard//contract//EN"]
        for e in events {
            lines += [
                "BEGIN:VEVENT", "UID:\(e.uid)", "DTSTAMP:20260101T000000Z", "DTSTART:20260301T150000Z",
                "SUMMARY:\(text(e.summary))", "END:VEVENT",
            ]
        }
        lines.append("END:VCALENDAR")
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

}
