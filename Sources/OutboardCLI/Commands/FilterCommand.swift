import ArgumentParser
import CalendarModel
import Engine
import FileCommands
import Filters
import Foundation
import YAMLConfig

/// Options every command that reads configuration shares.
struct ConfigOptions: ParsableArguments {
    @Option(name: .customLong("subscriptions"), help: ArgumentHelp("Where subscription files live.", valueName: "dir"))
    var subscriptionsDirectory = "./Subscriptions"
    @Option(name: .customLong("filters"), help: ArgumentHelp("Where filter files live.", valueName: "dir"))
    var filtersDirectory = "./Filters"
    @Option(
        name: .customLong("state"),
        help: ArgumentHelp("Where the status store (unless --store) and the control files live.", valueName: "dir"))
    var stateDirectory = "./.outboard"
    @Option(
        name: .customLong("store"),
        help: ArgumentHelp(
            "The status store: sqlite:PATH, or postgres://USER@HOST:PORT/DATABASE?password-env=VAR for engines that share their subscriptions (default: $OUTBOARD_STORE, else the --state directory).",
            valueName: "url"))
    var store: String?

    /// The store's URL: --store, else $OUTBOARD_STORE, else the state directory.
    var storeURL: String {
        store ?? ProcessInfo.processInfo.environment["OUTBOARD_STORE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? stateDirectory
    }
}

/// `outboard filter --filter NAME… FILE`: runs filters over a calendar file.
struct FilterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filter",
        abstract: "Run filters over a calendar file and print the filtered calendar.",
        discussion: """
            Input-stage filters run first, then output-stage ones, each group in the order given. \
            What each rule did, and which items were dropped, goes to standard error. \
            Exit status: 0 done, 1 when the input had problems (listed with line numbers), 2 for bad usage or a bad filter file.
            """
    )

    @OptionGroup var config: ConfigOptions
    @Option(
        name: .customLong("filter"),
        help: ArgumentHelp("A filter's name (its file's stem in --filters). Repeatable.", valueName: "name"))
    var filterNames: [String] = []
    @Option(
        help: ArgumentHelp(
            "The time ended-days-ago measures from, in UTC (default: now).", valueName: "yyyymmddThhmmssZ"))
    var now: String?
    @Argument(help: "An iCalendar file, or - for standard input.") var file: String

    func validate() throws {
        if filterNames.isEmpty { throw ValidationError("give at least one --filter NAME") }
        if let now, ICalValue.parse(now, as: .dateTime) == nil {
            throw ValidationError("--now \(now) is not a UTC date-time such as 20261121T120000Z")
        }
    }

    func run() throws {
        let filters = try FilterFiles.load(filterNames, from: config.filtersDirectory)
        let pipeline = FilterPipeline(
            input: filters.filter { $0.stage == .input }, output: filters.filter { $0.stage == .output })
        let input = try InputFile(file)
        let set = ItemGrouper.items(from: try input.parseICalendar())
        let at =
            now.flatMap { if case .dateTime(let dt)? = ICalValue.parse($0, as: .dateTime) { dt } else { nil } }
            ?? ICalDateTime.utc(Date())

        var kept: [ICalItem] = []
        var totals: [String: (RuleEffect, items: Int)] = [:]
        var order: [String] = []
        var dropped: [String] = []
        for item in set.items {
            switch pipeline.run(item, now: at) {
            case .kept(let out, let effects):
                kept.append(out)
                for e in effects {
                    let key = "\(e.filter)#\(e.rule)"
                    if totals[key] == nil {
                        order.append(key)
                        totals[key] = (RuleEffect(filter: e.filter, rule: e.rule, summary: e.summary, changes: 0), 0)
                    }
                    totals[key]!.0.changes += e.changes
                    totals[key]!.items += 1
                }
            case .dropped(let filter, let rule, _):
                dropped.append("dropped \(item.key) by filter \(filter) rule \(rule)")
            }
        }
        Console.current.write(ICalWriter.write([Self.calendar(set.calendarProperties, kept)]))
        for key in order {
            let (e, items) = totals[key]!
            Console.current.error(
                "filter \(e.filter) rule \(e.rule) (\(e.summary)): \(e.changes) change\(e.changes == 1 ? "" : "s") in \(items) item\(items == 1 ? "" : "s")"
            )
        }
        dropped.forEach(Console.current.error)
        Console.current.error("kept \(kept.count) of \(set.items.count) items")
        try input.report(set.diagnostics)
    }

    /// One VCALENDAR: the feed's calendar properties, each time zone once, then the items.
    static func calendar(_ properties: [ICalProperty], _ items: [ICalItem]) -> ICalComponent {
        var zones: [ICalComponent] = []
        var seen = Set<String>()
        for z in items.flatMap(\.timezones) where seen.insert(z.property("TZID")?.text ?? "").inserted {
            zones.append(z)
        }
        return ICalComponent(name: "VCALENDAR", properties: properties, components: zones + items.flatMap(\.components))
    }
}

/// Reads filter files by name from a directory.
enum FilterFiles {
    static func load(_ names: [String], from directory: String) throws -> [Filter] {
        var filters: [Filter] = []
        var problems: [String] = []
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name + ".yaml")
            guard let data = FileManager.default.contents(atPath: path) else {
                let available = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
                    .filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
                problems.append(
                    "no filter \"\(name)\" in \(directory)\(Suggestion.hint(name, available))"
                        + (available.isEmpty ? "" : " (there are: \(available.joined(separator: ", ")))"))
                continue
            }
            switch FilterLoader.load(name: name, text: String(decoding: data, as: UTF8.self), file: path) {
            case .success(let f): filters.append(f)
            case .failure(let p): problems += p.problems.map(\.description)
            }
        }
        if !problems.isEmpty {
            for problem in problems { Console.current.error(problem) }
            throw CommandExit(code: 2, message: nil)
        }
        return filters
    }
}
