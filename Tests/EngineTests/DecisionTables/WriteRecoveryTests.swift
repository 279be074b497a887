import CalendarModel
import Engine
import EngineAdapters
import Foundation
import SyncCore
import Testing

/// What a pass does after each write's outcome, branch by branch: table tests on the pure
/// `WriteRecovery`.
@Suite struct WriteRecoveryTests {
    /// The feed's item a@x as one VCALENDAR.
    static func calendar() -> ICalComponent {
        let text =
            [
                "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", "BEGIN:VEVENT", "UID:a@x",
                "DTSTAMP:20260101T000000Z", "DTSTART:20260301T150000Z", "SUMMARY:Standup", "END:VEVENT",
                "END:VCALENDAR",
            ].joined(separator: "\r\n") + "\r\n"
        return try! ICalParser().parse(text).calendars[0]
    }

    static let written = calendar()
    static let source = ItemGrouper.items(from: ICalDocument(calendars: [written])).items[0]
    static let add = PlannedWrite.add(key: "a@x", calendar: written, hash: "h2")
    static let update = PlannedWrite.update(
        key: "a@x", href: "/c/a.ics", token: "r1", update: ComponentUpdate(selector: ComponentSelector(name: "VEVENT")),
        source: source, hash: "h2")
    static let delete = PlannedWrite.delete(key: "a@x", href: "/c/a.ics", token: "t1")
    /// A state the target already matched, with a hash and version of its own.
    static let settled = ItemState(key: "a@x", hash: "h1", href: "/c/a.ics", changeToken: "r1")

    static func refusal(_ reason: TargetError.Reason, _ message: String) -> WriteOutcome {
        .refused(TargetError(reason, message))
    }

    /// The item recorded at `href` and `version`, with the write's hash and no content.
    static func recorded(_ href: String, _ version: String) -> WriteRecovery.Next {
        .record(ItemState(key: "a@x", hash: "h2", href: href, changeToken: version))
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var write: PlannedWrite
        var outcome: WriteOutcome
        /// The outcome is the retry's.
        var retried = false
        var next: WriteRecovery.Next
        var testDescription: String { name }
    }

    static let noVersion = "the target's answer carried no version"

    static let rows: [Row] = [
        // No answer, whatever the write.
        Row(
            name: "an add without an answer stops the pass", write: add, outcome: .unknown("timed out"),
            next: .unanswered("timed out")),
        Row(
            name: "an update without an answer stops the pass", write: update, outcome: .unknown("reset"),
            next: .unanswered("reset")),
        Row(
            name: "a delete without an answer stops the pass", write: delete, outcome: .unknown("502"),
            next: .unanswered("502")),
        // Applied.
        Row(
            name: "an applied add records the target's href and version", write: add,
            outcome: .applied(href: "/c/new.ics", version: "r1"), next: recorded("/c/new.ics", "r1")),
        Row(
            name: "an applied update records the new version", write: update,
            outcome: .applied(href: "/c/a.ics", version: "r2"), next: recorded("/c/a.ics", "r2")),
        Row(
            name: "an applied retry records like any applied write", write: update,
            outcome: .applied(href: "/c/a.ics", version: "r3"), retried: true, next: recorded("/c/a.ics", "r3")),
        Row(
            name: "an applied delete forgets the item", write: delete,
            outcome: .applied(href: "/c/a.ics", version: nil), next: .forget),
        Row(
            name: "an applied add without a version fails", write: add,
            outcome: .applied(href: "/c/new.ics", version: nil), next: .fail(noVersion)),
        Row(
            name: "an applied update without a version fails", write: update,
            outcome: .applied(href: "/c/a.ics", version: nil), next: .fail(noVersion)),
        // Refused adds.
        Row(
            name: "an add whose UID the target has brings that entity up to date", write: add,
            outcome: refusal(.uidExists(href: "/c/old.ics"), "a@x exists"), next: .bringUpToDate(href: "/c/old.ics")),
        Row(
            name: "an add whose UID the target still has after the retry fails", write: add,
            outcome: refusal(.uidExists(href: "/c/old.ics"), "a@x exists"), retried: true, next: .fail("a@x exists")),
        Row(
            name: "an add refused as too large fails", write: add, outcome: refusal(.tooLarge, "a@x: too large"),
            next: .fail("a@x: too large")),
        Row(
            name: "an add refused as forbidden fails", write: add, outcome: refusal(.forbidden, "/c: forbidden"),
            next: .fail("/c: forbidden")),
        Row(
            name: "an add refused as stale fails: it has no version to refresh", write: add,
            outcome: refusal(.versionStale, "a@x: stale"), next: .fail("a@x: stale")),
        // Refused updates.
        Row(
            name: "a stale update brings its own entity up to date", write: update,
            outcome: refusal(.versionStale, "/c/a.ics: stale"), next: .bringUpToDate(href: "/c/a.ics")),
        Row(
            name: "an update whose entity vanished brings its href up to date", write: update,
            outcome: refusal(.notFound, "/c/a.ics: gone"), next: .bringUpToDate(href: "/c/a.ics")),
        Row(
            name: "a retried update refused as stale fails", write: update,
            outcome: refusal(.versionStale, "/c/a.ics: stale"), retried: true, next: .fail("/c/a.ics: stale")),
        Row(
            name: "a retried update whose entity vanished fails", write: update,
            outcome: refusal(.notFound, "/c/a.ics: gone"), retried: true, next: .fail("/c/a.ics: gone")),
        Row(
            name: "an update refused as forbidden fails", write: update,
            outcome: refusal(.forbidden, "/c/a.ics: forbidden"), next: .fail("/c/a.ics: forbidden")),
        Row(
            name: "an update refused as too large fails", write: update,
            outcome: refusal(.tooLarge, "/c/a.ics: too large"), next: .fail("/c/a.ics: too large")),
        Row(
            name: "a fenced update fails", write: update, outcome: refusal(.fenced, "/c: fenced"),
            next: .fail("/c: fenced")),
        // Refused deletes.
        Row(
            name: "a delete of what is already gone forgets the item", write: delete,
            outcome: refusal(.notFound, "/c/a.ics: gone"), next: .forget),
        Row(
            name: "a retried delete of what is gone forgets it too", write: delete,
            outcome: refusal(.notFound, "/c/a.ics: gone"), retried: true, next: .forget),
        Row(
            name: "a delete refused as forbidden fails", write: delete,
            outcome: refusal(.forbidden, "/c/a.ics: forbidden"), next: .fail("/c/a.ics: forbidden")),
        Row(
            name: "a fenced delete fails", write: delete, outcome: refusal(.fenced, "/c: fenced"),
            next: .fail("/c: fenced")),
        Row(
            name: "a delete of an entity edited since is sent again at its version now", write: delete,
            outcome: refusal(.versionStale, "/c/a.ics: changed"), next: .deleteCurrent(href: "/c/a.ics")),
        Row(
            name: "a retried delete refused as stale again fails", write: delete,
            outcome: refusal(.versionStale, "/c/a.ics: changed"), retried: true, next: .fail("/c/a.ics: changed")),
        // A settle is never sent; its state is what is recorded, not the outcome's.
        Row(
            name: "a settle records its own state", write: .settle(settled),
            outcome: .applied(href: "/c/other.ics", version: "r9"), next: .record(settled)),
    ]

    @Test(arguments: rows)
    func aWriteOutcomeDecidesWhatThePassDoesNext(row: Row) {
        let next = WriteRecovery.next(after: row.outcome, of: row.write, retried: row.retried, keepContent: false)
        #expect(next == row.next)
    }

    @Test func keepingContentRecordsTheCalendarThatWasApplied() {
        let applied = WriteOutcome.applied(href: "/c/a.ics", version: "r2")
        func kept(_ text: String) -> WriteRecovery.Next {
            .record(ItemState(key: "a@x", hash: "h2", href: "/c/a.ics", changeToken: "r2", content: text))
        }
        // An add keeps the calendar it sent.
        let addedText = ICalWriter.string([Self.written])
        #expect(addedText.contains("UID:a@x") && addedText.contains("SUMMARY:Standup"))
        #expect(WriteRecovery.next(after: applied, of: Self.add, keepContent: true) == kept(addedText))
        // An update keeps the feed's item as a calendar of its own.
        let updatedText = ICalWriter.string([Self.source.calendar()])
        #expect(updatedText.contains("UID:a@x") && updatedText.contains("SUMMARY:Standup"))
        #expect(WriteRecovery.next(after: applied, of: Self.update, keepContent: true) == kept(updatedText))
        let gone = WriteOutcome.applied(href: "/c/a.ics", version: nil)
        #expect(WriteRecovery.next(after: gone, of: Self.delete, keepContent: true) == .forget)
    }
}
