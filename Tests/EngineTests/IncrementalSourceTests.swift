import CalendarModel
import Engine
import EngineAdapters
import EngineTesting
import Filters
import Foundation
import Testing

/// A source that says what changed since a token (`InMemoryCollection`, as CalDAV's
/// sync-collection will): the pass applies only the changes, keeps the token only once they are
/// applied, and reads the whole collection again when the source no longer knows the token.
@Suite struct IncrementalSourceTests {
    static func event(_ uid: String, _ summary: String) -> [UInt8] {
        Array(
            ([
                "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", "BEGIN:VEVENT", "UID:\(uid)",
                "DTSTAMP:20260101T000000Z", "DTSTART:20260301T150000Z", "SUMMARY:\(summary)", "END:VEVENT",
                "END:VCALENDAR",
            ].joined(separator: "\r\n") + "\r\n").utf8)
    }

    struct Bed {
        let base = try! MemoryBed()
        let collection = InMemoryCollection()
        let subscription: Subscription

        init() throws {
            subscription = try base.subscription("inc", feed: "unused.ics", collection: "/c/inc")
        }

        func pass() async -> SyncReport {
            await SyncPass(
                subscription: subscription, filters: base.pipeline(subscription), store: base.store,
                target: base.client, source: collection
            ).run()
        }
    }

    @Test func onlyTheChangesAreAppliedAndADeletedResourceRemovesItsItem() async throws {
        let bed = try Bed()
        for n in 1...3 { bed.collection.put("/src/\(n).ics", Self.event("e\(n)@x", "Event \(n)")) }
        let first = await bed.pass()
        #expect(first.succeeded && first.added.count == 3, "\(first.error ?? "")")
        #expect(try bed.base.store.feed("inc").position?.isToken == true, "the token is kept once applied")
        #expect(try bed.base.store.items("inc")["e2@x"]?.origin == "/src/2.ics")

        #expect(await bed.pass().notModified, "nothing changed since the token")

        bed.collection.put("/src/2.ics", Self.event("e2@x", "Event 2, moved"))
        bed.collection.delete("/src/3.ics")
        let second = await bed.pass()
        #expect(second.succeeded, "\(second.error ?? "")")
        #expect(second.updated.map(\.key) == ["e2@x"] && second.deleted == ["e3@x"] && second.added.isEmpty)
        #expect(second.unchanged == 1 && second.settledUnparsed == 1, "e1 was not in the changes: settled, not read")
        #expect(bed.base.summaries("/c/inc") == ["e1@x": "Event 1", "e2@x": "Event 2, moved"])
    }

    @Test func aTokenTheSourceNoLongerKnowsReadsTheWholeCollectionAndComparesIt() async throws {
        let bed = try Bed()
        for n in 1...3 { bed.collection.put("/src/\(n).ics", Self.event("e\(n)@x", "Event \(n)")) }
        #expect(await bed.pass().succeeded)
        bed.collection.delete("/src/1.ics")
        bed.collection.put("/src/4.ics", Self.event("e4@x", "Event 4"))
        bed.collection.forgetTokens()
        let r = await bed.pass()
        #expect(r.succeeded, "\(r.error ?? "")")
        #expect(r.diagnostics.contains { $0.contains("could not say what changed since the stored token") })
        #expect(r.added == ["e4@x"] && r.deleted == ["e1@x"] && r.updated.isEmpty, "compared, not deleted and re-added")
        #expect(r.unchanged == 2 && r.settledUnparsed == 2, "compared by ETag: only the new member was read")
    }

    /// A collection as some servers are: a token they no longer know answered as if read from
    /// scratch (every member, no deletions), or no tokens at all.
    struct Forgetful: FeedSource {
        enum Way { case answersStaleTokensFromScratch, givesNoTokens }
        var inner: InMemoryCollection
        var way: Way

        func fetch(
            _ s: Subscription, from position: FeedPosition?, onBody: (@Sendable (UnsafeBufferPointer<UInt8>) -> Void)?
        ) async throws(FetchError) -> FeedResult {
            switch (way, position) {
            case (.answersStaleTokensFromScratch, .token?):
                guard case .changes(var all) = try await inner.fetch(s, from: nil) else { return .notModified }
                all.complete = false
                return .changes(all)
            case (.givesNoTokens, _):
                guard case .changes(var c) = try await inner.fetch(s, from: position?.isToken == true ? nil : position)
                else { return .notModified }
                c.token = ""
                return .changes(c)
            default:
                return try await inner.fetch(s, from: position)
            }
        }
    }

    @Test func aStaleTokenAnsweredAsIfFromScratchIsCaughtByTheETagsTheStoreHolds() async throws {
        let bed = try Bed()
        for n in 1...3 { bed.collection.put("/src/\(n).ics", Self.event("e\(n)@x", "Event \(n)")) }
        #expect(await bed.pass().succeeded)
        bed.collection.delete("/src/1.ics")
        bed.collection.put("/src/2.ics", Self.event("e2@x", "Event 2, moved"))
        let r = await SyncPass(
            subscription: bed.subscription, filters: bed.base.pipeline(bed.subscription), store: bed.base.store,
            target: bed.base.client, source: Forgetful(inner: bed.collection, way: .answersStaleTokensFromScratch)
        ).run()
        #expect(r.succeeded, "\(r.error ?? "")")
        #expect(r.diagnostics.contains { $0.contains("at the ETag last applied") }, "\(r.diagnostics)")
        #expect(r.deleted == ["e1@x"], "the member the answer left out is deleted, not kept")
        #expect(r.updated.map(\.key) == ["e2@x"] && r.added.isEmpty)
        #expect(bed.base.summaries("/c/inc") == ["e2@x": "Event 2, moved", "e3@x": "Event 3"])
    }

    @Test func aCollectionWithoutTokensIsComparedByETagEachPass() async throws {
        let bed = try Bed()
        let source = Forgetful(inner: bed.collection, way: .givesNoTokens)
        func pass() async -> SyncReport {
            await SyncPass(
                subscription: bed.subscription, filters: bed.base.pipeline(bed.subscription), store: bed.base.store,
                target: bed.base.client, source: source
            ).run()
        }
        for n in 1...3 { bed.collection.put("/src/\(n).ics", Self.event("e\(n)@x", "Event \(n)")) }
        #expect(await pass().added.count == 3)
        #expect(try bed.base.store.feed("inc").position == .token(""))
        bed.collection.put("/src/3.ics", Self.event("e3@x", "Event 3, moved"))
        let r = await pass()
        #expect(r.succeeded && r.updated.map(\.key) == ["e3@x"], "\(r.error ?? "")")
        #expect(r.settledUnparsed == 2, "only the member whose ETag changed was read")
    }

    @Test func aPassThatFailsKeepsTheOldTokenSoNoChangeIsLost() async throws {
        let bed = try Bed()
        bed.collection.put("/src/1.ics", Self.event("e1@x", "Event 1"))
        #expect(await bed.pass().succeeded)
        let token = try bed.base.store.feed("inc").position
        bed.collection.put("/src/2.ics", Self.event("e2@x", "Event 2"))
        bed.base.switchable.isDown = true
        #expect(await bed.pass().errorKind == .target)
        #expect(try bed.base.store.feed("inc").position == token, "the token moves only once its changes are applied")
        bed.base.switchable.isDown = false
        let r = await bed.pass()
        #expect(r.succeeded && r.added == ["e2@x"], "\(r.error ?? "")")
        #expect(bed.base.summaries("/c/inc").count == 2)
    }

    @Test func anUnreadableResourceFailsThePassNamingItsHref() async throws {
        let bed = try Bed()
        bed.collection.put("/src/bad.ics", Array("<html>not a calendar</html>".utf8))
        let r = await bed.pass()
        #expect(r.errorKind == .parse && r.error?.contains("/src/bad.ics") == true, "\(r.error ?? "")")
        #expect(try bed.base.store.feed("inc").position == nil)
    }
}
