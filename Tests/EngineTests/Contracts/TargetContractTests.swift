import CalendarModel
import CalWS
import Engine
import EngineTesting
import Foundation
import SyncCore
import Testing
import TestSupport

/// What every `CalendarTarget` must do, run against each implementation (vdirsyncer's storage
/// tests are the model): a new target (CalDAV, say) is admitted by passing this suite.
@Suite struct TargetContractTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case memory, calws
        var testDescription: String { rawValue }
    }

    /// A fresh target of the kind, and what to stop afterwards.
    static func make(_ kind: Kind) throws -> (any CalendarTarget, TargetProcess?) {
        switch kind {
        case .memory: return (InMemoryTarget(), nil)
        case .calws:
            let server = try TargetProcess.start()
            return (TargetClient(endpoint: server.endpoint, token: TargetProcess.token), server)
        }
    }

    static func event(_ uid: String, _ summary: String) throws -> ICalComponent {
        let text =
            [
                "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", "BEGIN:VEVENT", "UID:\(uid)",
                "DTSTAMP:20260101T000000Z",
                "DTSTART:20260301T150000Z", "SUMMARY:\(summary)", "END:VEVENT", "END:VCALENDAR",
            ].joined(separator: "\r\n") + "\r\n"
        return try ICalParser().parse(text).calendars[0]
    }

    static func summary(_ e: EntityInfo?) -> String? {
        e?.calendar?.components.first { $0.name == "VEVENT" }?.property("SUMMARY")?.text
    }

    static func kind(of body: () async throws -> Void) async -> CalWSErrorKind? {
        do { try await body() } catch let e as TargetClientError { return e.kind } catch {}
        return nil
    }

    static func rename(_ target: any CalendarTarget, _ e: EntityInfo, to summary: String) throws -> ComponentUpdate {
        let item = ItemGrouper.items(
            from: ICalDocument(calendars: [try event(e.calendar!.components[0].uid!, summary)])
        ).items[0]
        let current = ItemGrouper.items(from: ICalDocument(calendars: [e.calendar!])).items[0]
        return Differ.diff(source: item, target: current, skip: .defaults)
    }

    @Test(arguments: Kind.allCases)
    func addedEntitiesAreFetchedListedAndFoundByUID(kind: Kind) async throws {
        let (target, server) = try Self.make(kind)
        defer { server?.stop() }
        #expect(await Self.kind { _ = try await target.list(collection: "/c/none") } == .targetDoesNotExist)
        let (href, token) = try await target.addItem(collection: "/c/a", calendar: try Self.event("one@x", "One"))
        #expect(href.hasPrefix("/c/a/") && !token.isEmpty)
        let fetched = try await target.fetchItem(href: href)
        #expect(fetched.changeToken == token && Self.summary(fetched) == "One")
        let listed = try await target.list(collection: "/c/a")
        #expect(listed.map(\.href) == [href] && listed[0].changeToken == token)
        #expect(listed[0].calendar?.components.first?.uid == "one@x", "a listing names each entity's UID")
        #expect(listed[0].calendar?.components.first?.property("SUMMARY") == nil, "a listing carries no calendar data")
        #expect(try await target.fetch(uid: "one@x", in: "/c/a")?.href == href)
        #expect(try await target.fetch(uid: "two@x", in: "/c/a") == nil)
        #expect(try await target.multiget(collection: "/c/a", hrefs: [href, "/c/a/none.ics"]).map(\.href) == [href])
        #expect(
            await Self.kind {
                _ = try await target.addItem(collection: "/c/a", calendar: try Self.event("one@x", "Again"))
            } == .uidConflict(href: href))
    }

    @Test(arguments: Kind.allCases)
    func everyWriteNeedsTheCurrentChangeTokenAndGivesANewOne(kind: Kind) async throws {
        let (target, server) = try Self.make(kind)
        defer { server?.stop() }
        let (href, first) = try await target.addItem(collection: "/c/u", calendar: try Self.event("u@x", "Before"))
        let copy = try await target.fetchItem(href: href)
        let second = try await target.updateItem(
            href: href, changeToken: first, update: try Self.rename(target, copy, to: "After"))
        #expect(second != first)
        #expect(Self.summary(try await target.fetchItem(href: href)) == "After")
        let stale = await Self.kind {
            _ = try await target.updateItem(
                href: href, changeToken: first, update: try Self.rename(target, copy, to: "Lost"))
        }
        #expect(stale == .mismatchedChangeToken)
        #expect(Self.summary(try await target.fetchItem(href: href)) == "After", "a refused update applies nothing")
        try await target.deleteItem(href: href)
        #expect(await Self.kind { _ = try await target.fetchItem(href: href) } == .targetDoesNotExist)
        #expect(await Self.kind { try await target.deleteItem(href: href) } == .targetDoesNotExist)
    }

    @Test(arguments: Kind.allCases)
    func aMultiOpIsAllOrNothing(kind: Kind) async throws {
        let (target, server) = try Self.make(kind)
        defer { server?.stop() }
        let (href, token) = try await target.addItem(collection: "/c/m", calendar: try Self.event("m1@x", "One"))
        let copy = try await target.fetchItem(href: href)
        let good = try await target.multiOp([
            CalWSRequest(.addItem(href: "/c/m", calendar: try Self.event("m2@x", "Two"))),
            CalWSRequest(
                .updateItem(href: href, changeToken: token, update: try Self.rename(target, copy, to: "One, renamed"))),
        ])
        #expect(good.count == 2 && good.allSatisfy { $0.result.status == .ok })
        // The second operation's token is stale now: nothing of the batch may stay.
        let refused = await Self.kind {
            _ = try await target.multiOp([
                CalWSRequest(.addItem(href: "/c/m", calendar: try Self.event("m3@x", "Three"))),
                CalWSRequest(
                    .updateItem(href: href, changeToken: token, update: try Self.rename(target, copy, to: "Lost"))),
            ])
        }
        #expect(refused == .mismatchedChangeToken)
        #expect(try await target.fetch(uid: "m3@x", in: "/c/m") == nil, "the add of a failed multiOp was rolled back")
        #expect(Self.summary(try await target.fetchItem(href: href)) == "One, renamed")
        #expect(try await target.list(collection: "/c/m").count == 2)
    }

    @Test(arguments: Kind.allCases)
    func aWriteOfAnOlderPassIsRefusedOnceALaterPassHasTouchedTheCollection(kind: Kind) async throws {
        let (target, server) = try Self.make(kind)
        defer { server?.stop() }
        let old = target.fenced(by: PassStamp(writer: "w", number: 7))
        let new = target.fenced(by: PassStamp(writer: "w", number: 8))
        let (href, token) = try await old.addItem(collection: "/c/f", calendar: try Self.event("f1@x", "One"))
        _ = try await old.list(collection: "/c/f")  // a pass's own reads never fence it out
        _ = try await new.list(collection: "/c/f")
        // Pass 7's writes arrive after pass 8 read the collection: refused, nothing applied.
        #expect(
            await Self.kind { _ = try await old.addItem(collection: "/c/f", calendar: try Self.event("f2@x", "Two")) }
                == .staleWriter)
        let copy = try await target.fetchItem(href: href)
        #expect(
            await Self.kind {
                _ = try await old.updateItem(
                    href: href, changeToken: token, update: try Self.rename(target, copy, to: "Late"))
            } == .staleWriter)
        #expect(await Self.kind { try await old.deleteItem(href: href) } == .staleWriter)
        #expect(
            await Self.kind {
                _ = try await old.multiOp([
                    CalWSRequest(.addItem(href: "/c/f", calendar: try Self.event("f3@x", "Three")))
                ])
            } == .staleWriter)
        #expect(try await target.list(collection: "/c/f").count == 1)
        #expect(Self.summary(try await target.fetchItem(href: href)) == "One")
        // Pass 8 writes; so does a client that numbers no pass; a write raises the fence too.
        _ = try await new.addItem(collection: "/c/f", calendar: try Self.event("f4@x", "Four"))
        _ = try await target.addItem(collection: "/c/f", calendar: try Self.event("f5@x", "Five"))
        _ = try await target.fenced(by: PassStamp(writer: "w", number: 9)).addItem(
            collection: "/c/f", calendar: try Self.event("f6@x", "Six"))
        // Another writer (a status store that replaced a lost one) is not fenced by these numbers.
        _ = try await target.fenced(by: PassStamp(writer: "other", number: 1)).addItem(
            collection: "/c/f", calendar: try Self.event("f8@x", "Eight"))
        #expect(
            await Self.kind { _ = try await new.addItem(collection: "/c/f", calendar: try Self.event("f7@x", "Seven")) }
                == .staleWriter)
        // Another collection has a fence of its own.
        _ = try await old.addItem(collection: "/c/other", calendar: try Self.event("o1@x", "Other"))
    }

    @Test(arguments: Kind.allCases)
    func aCollectionsZoneIsTheOneItsFreshnessReportGave(kind: Kind) async throws {
        let (target, server) = try Self.make(kind)
        defer { server?.stop() }
        #expect(await Self.kind { _ = try await target.properties(href: "/c/z") } == .targetDoesNotExist)
        _ = try await target.addItem(collection: "/c/z", calendar: try Self.event("z@x", "Zoned"))
        #expect(try await target.properties(href: "/c/z")?.timezone == nil)
        func report(_ zone: String?) async throws {
            try await target.reportFreshness(
                CollectionFreshness(href: "/c/z", subscription: "z", refreshInterval: 60, timezone: zone))
        }
        try await report("Europe/Berlin")
        #expect(try await target.properties(href: "/c/z")?.timezone == "Europe/Berlin")
        try await report(nil)
        #expect(try await target.properties(href: "/c/z")?.timezone == nil, "a report without a zone removes it")
    }
}
