// outboard-bench: measures the calendar core on a generated feed. Run it in release mode:
//   swift run -c release outboard-bench [events]
// It prints what it measured; it asserts nothing (speed goals live here, not in tests).
import CalendarModel
import Foundation
import SyncCore
import TestSupport
import XCal

let arguments = CommandLine.arguments.dropFirst()
let events = arguments.first.flatMap(Int.init) ?? 10_000
// `outboard-bench N parse` parses once and stops: a profile target (valgrind --tool=callgrind).
let parseOnly = arguments.contains("parse")
// `outboard-bench sync [N]` measures a whole pass end to end (nginx, engine, target).
if arguments.contains("sync") {
    try await SyncBench.run(events: arguments.compactMap(Int.init).first ?? 10_000)
    exit(0)
}
// `outboard-bench caldav-server` measures outboard-target's CalDAV face beside Radicale.
if arguments.contains("caldav-server") {
    try await CalDAVServerBench.run()
    exit(0)
}
// `outboard-bench caldav [N]` measures CalDAV at both ends against Radicale, beside vdirsyncer.
if arguments.contains("caldav") {
    try await CalDAVBench.run(events: arguments.compactMap(Int.init).first ?? 1000)
    exit(0)
}
// `outboard-bench daemon [subscriptions] [seconds]` measures the daemon's scheduling (nginx, `outboard run`, target).
if arguments.contains("daemon") {
    let numbers = arguments.compactMap(Int.init)
    try await DaemonBench.run(subscriptions: numbers.first ?? 1000, seconds: Double(numbers.dropFirst().first ?? 300))
    exit(0)
}
// `outboard-bench cluster [subscriptions] [seconds] [lease]` measures three engines sharing a PostgreSQL store.
if arguments.contains("cluster") {
    let numbers = arguments.compactMap(Int.init)
    try await ClusterBench.run(
        subscriptions: numbers.first ?? 10_000, seconds: Double(numbers.dropFirst().first ?? 300),
        lease: numbers.dropFirst(2).first ?? 30)
    exit(0)
}
// `outboard-bench expand [N]` measures recurrence expansion, beside libical and the `outboard ics expand` process.
if arguments.contains("expand") {
    try ExpandBench.run(events: arguments.compactMap(Int.init).first ?? 10_000)
    exit(0)
}
// `outboard-bench availability` measures the target's availability answers and its index's cost.
if arguments.contains("availability") {
    try await AvailabilityBench.run()
    exit(0)
}
// `outboard-bench target` measures the reference target over HTTP instead.
if arguments.contains("target") {
    try await TargetBench.run()
    exit(0)
}
// `outboard-bench N hash` parses, groups and hashes 20 times; `N diff` diffs 1000 changed items 20 times.
if arguments.contains("diff") {
    let items = ItemGrouper.items(from: try ICalParser().parse(Array(FeedGenerator(events: events).text().utf8))).items
    var n = 0
    for _ in 0..<20 {
        for item in items.prefix(1000) {
            var changed = item
            changed.components[0].properties[0].values = [.text("x")]
            n += Differ.diff(source: changed, target: item).count
        }
    }
    print("diffed 1000 items 20 times (\(n) edits)")
    exit(0)
}
if arguments.contains("hash") {
    let items = ItemGrouper.items(from: try ICalParser().parse(Array(FeedGenerator(events: events).text().utf8))).items
    var hasher = ItemHasher(skipping: .defaults)
    var n = 0
    var best = Double.infinity
    for _ in 0..<20 {
        let start = DispatchTime.now().uptimeNanoseconds
        for item in items { n += hasher.hash(item).count }
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    print(
        String(
            format: "hashed %d items 20 times (%d hex digits); fastest round %.1f ms, %.0f items/s on one core",
            items.count, n, best * 1000, Double(items.count) / best))
    exit(0)
}
// `outboard-bench N xcal` writes and reads the feed as xCal 15 times each and prints the fastest
// round of each (on a shared machine the fastest round is the steadiest figure).
if arguments.contains("xcal") {
    /// The xCal of `calendars` and the fastest write and read of 15 rounds, in seconds.
    func fastest(_ calendars: [ICalComponent]) throws -> (xml: [UInt8], write: Double, read: Double) {
        var xml: [UInt8] = []
        var write = Double.infinity
        var read = Double.infinity
        for _ in 0..<15 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            xml = XCalWriter.write(calendars)
            let t1 = DispatchTime.now().uptimeNanoseconds
            _ = try XCalReader().read(xml)
            let t2 = DispatchTime.now().uptimeNanoseconds
            write = min(write, Double(t1 - t0) / 1e9)
            read = min(read, Double(t2 - t1) / 1e9)
        }
        return (xml, write, read)
    }
    let calendars = try ICalParser().parse(Array(FeedGenerator(events: events).text().utf8)).calendars
    let feed = try fastest(calendars)
    let mb = Double(feed.xml.count) / 1e6
    print(
        String(
            format: "xCal of %.1f MB: fastest write %.1f ms (%.1f MB/s), fastest read %.1f ms (%.1f MB/s)",
            mb, feed.write * 1000, mb / feed.write, feed.read * 1000, mb / feed.read))
    // As a CalWS message carries them: each item a calendar of its own with the zones it uses
    // (the VTIMEZONE trees shared, as the engine's are, so each is written once and repeated);
    // 2,000 of them, within the reader's 64 MiB.
    let zones = Dictionary(
        calendars[0].components.filter { $0.name == "VTIMEZONE" }.map { ($0.property("TZID")?.text ?? "", $0) },
        uniquingKeysWith: { a, _ in a })
    let entities = ItemGrouper.items(from: ICalDocument(calendars: calendars)).items.prefix(2000).map { item in
        let tzids = Set(
            item.components.flatMap {
                $0.properties.flatMap { $0.parameters.filter { $0.name == "TZID" }.flatMap(\.values) }
            })
        return ICalComponent(
            name: "VCALENDAR", properties: [ICalProperty("VERSION", .text("2.0"))],
            components: tzids.sorted().compactMap { zones[$0] } + item.components)
    }
    let message = try fastest(entities)
    let mbm = Double(message.xml.count) / 1e6
    print(
        String(
            format:
                "as %d calendars, each with its zones (%.1f MB): fastest write %.1f ms (%.1f MB/s), fastest read %.1f ms (%.1f MB/s, %.0f calendars/s)",
            entities.count, mbm, message.write * 1000, mbm / message.write, message.read * 1000, mbm / message.read,
            Double(entities.count) / message.read))
    exit(0)
}
let repeats = 5

func peakRSSMegabytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024  // kilobytes on Linux
}

/// Runs `body` once to warm up, then `repeats` times, and returns the median wall time in seconds.
func measure(_ body: () throws -> Void) rethrows -> Double {
    try body()
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return times.sorted()[times.count / 2]
}

func report(_ what: String, bytes: Int, seconds: Double, extra: String = "") {
    let mb = Double(bytes) / 1_000_000
    print(
        what.padding(toLength: 28, withPad: " ", startingAt: 0)
            + String(format: " %8.1f MB/s  %8.2f ms  ", mb / seconds, seconds * 1000) + extra)
}

let feed = Array(FeedGenerator(events: events).text().utf8)
let rssBefore = peakRSSMegabytes()
let feedMB = Double(feed.count) / 1_000_000
print(String(format: "feed: %d events, %.2f MB (deterministic, generated in memory)", events, feedMB))
print("median of \(repeats) runs after one warm-up; MB/s is of the iCalendar feed's size unless noted")

// One cold parse first, alone, so the memory figure is that of one tree.
var document = try ICalParser().parse(feed)
if parseOnly {
    for _ in 0..<30 { document = try ICalParser().parse(feed) }
    print("parsed \(document.calendars.count) calendar(s) 31 times")
    exit(0)
}
let rssAfterParse = peakRSSMegabytes()
print(
    String(
        format:
            "parse memory: peak %.1f MB after one parse, %.1f MB before (feed generated); one tree costs %.1fx the feed's size",
        rssAfterParse, rssBefore, (rssAfterParse - rssBefore) / feedMB))
// The previous tree is freed before the clock starts, so freeing is not timed as parsing (the
// engine frees each pass's tree too, and malloc reuses that memory, as it does here).
@MainActor func timeParse(_ parser: ICalParser) throws -> Double {
    var times: [Double] = []
    for _ in 0..<repeats {
        document = ICalDocument(calendars: [])
        let start = DispatchTime.now().uptimeNanoseconds
        document = try parser.parse(feed)
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return times.sorted()[repeats / 2]
}
let parseTime = try timeParse(ICalParser())
report(
    "parse (typed tree)", bytes: feed.count, seconds: parseTime,
    extra: "\(document.diagnostics.count) diagnostics; read in \(ConcurrencyWidth.processors) parts on as many cores")
let parseOneThread = try timeParse(.oneThread)
report("parse on one core", bytes: feed.count, seconds: parseOneThread, extra: "(the same tree, read in one piece)")

var written: [UInt8] = []
let writeTime = measure { written = ICalWriter.write(document.calendars) }
report("write iCalendar", bytes: written.count, seconds: writeTime, extra: "(\(written.count) bytes out)")

var xcal: [UInt8] = []
let xcalTime = measure { xcal = XCalWriter.write(document.calendars) }
report(
    "to-xcal (write)", bytes: feed.count, seconds: xcalTime,
    extra: String(format: "(%.1f MB of xCal)", Double(xcal.count) / 1e6))

let readXCalTime = try measure { _ = try XCalReader().read(xcal) }
report("from-xcal (read)", bytes: xcal.count, seconds: readXCalTime, extra: "(MB/s of the xCal)")

var items: [ICalItem] = []
let groupTime = measure { items = ItemGrouper.items(from: document).items }
report("group into items", bytes: feed.count, seconds: groupTime, extra: "\(items.count) items")

var hashes: [String] = []
var hasher = ItemHasher(skipping: .defaults)
let hashTime = measure { hashes = items.map { hasher.hash($0) } }
report(
    "canonical hash", bytes: feed.count, seconds: hashTime,
    extra: String(format: "%.0f items/s", Double(items.count) / hashTime))

// Settling unchanged items: hash each item and compare with the stored hash, on one core and
// then on every core (as a sync pass does).
let stored = Dictionary(uniqueKeysWithValues: zip(items.map(\.key), hashes))
var unchanged = 0
let settleOneCore = measure {
    unchanged = 0
    var hasher = ItemHasher(skipping: .defaults)
    for item in items where stored[item.key] == hasher.hash(item) { unchanged += 1 }
}
let unchangedOneCore = unchanged
let settleAllCores = measure {
    let settled = items.concurrentMap(state: { ItemHasher(skipping: .defaults) }) { hasher, item in
        stored[item.key] == hasher.hash(item)
    }
    unchanged = settled.count { $0 }
}
print(
    "settle unchanged items".padding(toLength: 28, withPad: " ", startingAt: 0)
        + String(
            format: " %8.0f items/s  on %d cores (%d of %d unchanged); %.0f items/s on one core (%d unchanged)",
            Double(items.count) / settleAllCores, ConcurrencyWidth.processors, unchanged, items.count,
            Double(items.count) / settleOneCore, unchangedOneCore))

// Settling unchanged items by their bytes, as a pass does first: scan the feed for each item's
// components and digest them (on every core); an item whose digest is the recorded one is
// settled without being parsed, filtered or hashed.
let firstScan = FeedScan.scan(feed)!
let storedSources = Dictionary(uniqueKeysWithValues: zip(firstScan.items.map(\.key), firstScan.digests(salt: [])))
var settledBySource = 0
let settleBySource = measure {
    guard let scan = FeedScan.scan(feed) else { return }
    settledBySource = zip(scan.items, scan.digests(salt: [])).count { storedSources[$0.key] == $1 }
}
print(
    "settle by source bytes".padding(toLength: 28, withPad: " ", startingAt: 0)
        + String(
            format:
                " %8.0f items/s  on %d cores (%d of %d settled: scanned, digested and compared in %.1f ms, the feed's %.1f MB read once)",
            Double(firstScan.items.count) / settleBySource, ConcurrencyWidth.processors, settledBySource,
            firstScan.items.count,
            settleBySource * 1000, feedMB))

// Diffing changed items: 100 items, each with its SUMMARY changed and one attendee's PARTSTAT.
var diffTimes: [Double] = []
var edits = 0
for item in items.prefix(100) {
    var changed = item
    if let i = changed.components[0].properties.firstIndex(where: { $0.name == "SUMMARY" }) {
        changed.components[0].properties[i].values = [.text("Changed title")]
    }
    if let i = changed.components[0].properties.firstIndex(where: { $0.name == "ATTENDEE" }) {
        changed.components[0].properties[i].parameters = [ICalParameter("PARTSTAT", "DECLINED")]
    }
    var best = Double.infinity
    for _ in 0..<20 {
        let start = DispatchTime.now().uptimeNanoseconds
        let d = Differ.diff(source: changed, target: item)
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3)
        edits = d.count
    }
    diffTimes.append(best)
}
diffTimes.sort()
print(
    "diff a changed item".padding(toLength: 28, withPad: " ", startingAt: 0)
        + String(
            format: " %8.1f us median, %.1f us p90 (100 items, best of 20 each; %d edits found in the last)",
            diffTimes[diffTimes.count / 2], diffTimes[diffTimes.count * 9 / 10], edits))

let peak = peakRSSMegabytes()
print(String(format: "peak memory of the whole run (xCal DOM, items and hashes included): %.1f MB", peak))
