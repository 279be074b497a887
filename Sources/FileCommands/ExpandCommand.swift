import ArgumentParser
import CalendarModel
import Dispatch
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

    /// How many lines a thread makes at a time (about 120 KB).
    static let linesPerPiece = 384

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
        // taken, and written in order as each piece's turn comes; a thread stops when standard
        // output can no longer be written.
        let pieces = runs.pieces(of: Self.linesPerPiece)
        let lanes = max(1, min(ConcurrencyWidth.processors, pieces.count))
        let output = OrderedOutput(capacity: Self.linesPerPiece * 320, window: 2 * lanes) { console.write($0) }
        let taken = Atomic(0)
        DispatchQueue.concurrentPerform(iterations: lanes) { _ in
            var writer = InstanceWriter(document: document, floatingPlaced: placed)
            while console.outputFailure == nil {
                let piece = output.piece()
                let k = taken.add(1, ordering: .relaxed).oldValue
                guard k < pieces.count else {
                    output.giveBack(piece)
                    return
                }
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
