import ArgumentParser
import CalendarModel
#if canImport(FoundationEssentials)
    import FoundationEssentials
    import FoundationInternationalization  // the zones of --zone (see FoundationZoneDatabase)
#else
    import Foundation
#endif
import Recurrence
import Synchronization

/// `outboard ics expand FILE`: every instance of every item that overlaps a window, one JSON
/// object a line, in start order.
struct ExpandCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expand",
        abstract:
            "Print one JSON object per instance of every series and event that overlaps a window, sorted by start.",
        discussion: """
            WHEN is a date (2026-01-05, midnight in --zone or UTC) or an RFC 3339 date-time (2026-01-05T09:00:00+01:00). \
            Keys, in this order, each left out when it has no value: component, uid, recurrence-id, start, start-tzid, \
            start-utc, end, end-tzid, end-utc, all-day, override, status, transp, summary. \
            Exit status: 0 clean, 1 when the calendar had problems (listed on standard error), 2 for bad usage.
            """
    )
    @Argument(help: "An iCalendar file, or - for standard input.") var file: String
    @Option(help: ArgumentHelp("The window's start (default: today).", valueName: "when")) var from: String?
    @Option(help: ArgumentHelp("The window's end (default: a year after its start).", valueName: "when")) var to:
        String?
    @Option(
        help: ArgumentHelp(
            "The zone floating and DATE values are placed in when the calendar has no X-WR-TIMEZONE.", valueName: "iana"
        ))
    var zone: String?

    /// How many lines a thread makes at a time (about 150 KB).
    static let linesPerPiece = 512

    func validate() throws {
        if let zone, TimeZone(identifier: zone) == nil {
            throw ValidationError("--zone \(zone) is not a zone the system's time zone database knows")
        }
        for (name, value) in [("--from", from), ("--to", to)] {
            if let value, WhenArgument.instant(value, zone: zone) == nil {
                throw ValidationError(
                    "\(name) \(value) is neither a date (2026-01-05) nor an RFC 3339 date-time (2026-01-05T09:00:00Z)")
            }
        }
    }

    func run() throws {
        let input = try InputFile(file)
        let document = try input.parseICalendar()
        let start = from.flatMap { WhenArgument.instant($0, zone: zone) } ?? WhenArgument.today(zone: zone)
        let end = to.flatMap { WhenArgument.instant($0, zone: zone) } ?? start + 366 * 86_400
        guard end > start else { throw CommandExit.usage("the window is empty: --to must be after --from") }
        let expander = CalendarExpander(
            document: document, options: ExpansionOptions(floatingZone: zone ?? "UTC"), concurrently: true)
        let runs = expander.instanceRuns(from: start, to: end)
        let placed = zone != nil || expander.floatingFromCalendar
        let console = Console.current
        console.widenPipe()
        // The lines are made in pieces on every core, each thread taking the next piece not yet
        // taken, and written in order as each piece's turn comes.
        let pieces = runs.pieces(of: Self.linesPerPiece)
        let output = OrderedOutput(capacity: Self.linesPerPiece * 320) { console.write($0) }
        let taken = Atomic(0)
        _ = Array(0..<ConcurrencyWidth.processors).concurrentMap(minimumPerThread: 1, state: {}) { _, _ in
            var writer = InstanceWriter(document: document, floatingPlaced: placed)
            while case let k = taken.add(1, ordering: .relaxed).oldValue, k < pieces.count {
                let piece = output.piece()
                writer.append(pieces[k], to: &piece.bytes)
                output.deliver(piece, as: k)
            }
        }
        console.keepUntilExit((document, expander, runs))
        input.print(document.diagnostics)
        for d in expander.diagnostics + runs.diagnostics {
            console.error(d.line > 0 ? "\(input.name):\(d.line): \(d.message)" : "\(input.name): \(d)")
        }
        if !document.diagnostics.isEmpty || !expander.diagnostics.isEmpty || !runs.diagnostics.isEmpty {
            throw CommandExit.problems
        }
    }
}

/// A WHEN argument (`--from`, `--to` of `ics expand` and `verify`): a date (midnight in a zone,
/// or UTC) or an RFC 3339 date-time.
package enum WhenArgument {
    /// Midnight today in `zone` (or UTC), as epoch seconds.
    package static func today(zone: String?) -> Int64 {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
        return Int64(calendar.startOfDay(for: Date()).timeIntervalSince1970)
    }

    /// A date (midnight in `zone`, or UTC) or an RFC 3339 date-time, as epoch seconds.
    package static func instant(_ text: String, zone: String?) -> Int64? {
        if let seconds = plainInstant(text, zone: zone) { return seconds }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        if text.count == 10, parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
            (1...12).contains(m), (1...31).contains(d)
        {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
            return calendar.date(from: DateComponents(year: y, month: m, day: d)).map {
                Int64($0.timeIntervalSince1970)
            }
        }
        for fractions in [false, true] {
            if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: fractions).parse(text) {
                return Int64(date.timeIntervalSince1970.rounded(.down))
            }
        }
        return nil
    }

    /// The usual shapes of `instant` read without Foundation's formatters (which load ICU's
    /// calendars: a few milliseconds of a command that takes about a hundred): a date in UTC
    /// (`2026-01-05`) and an RFC 3339 date-time without fractions. Anything else is nil.
    package static func plainInstant(_ text: String, zone: String?) -> Int64? {
        if text.utf8.count == 10 { return zone == nil ? RFC3339.instant(text + "T00:00:00Z") : nil }
        return RFC3339.instant(text)
    }
}
