import CalendarModel
import Foundation
import Recurrence
import TestSupport

/// `outboard-bench expand [events]`: the recurring part of the generated feed (its series with
/// their overrides and zones) expanded over 2026, on one core, with and without parsing; then
/// the same file through libical (`icalcomponent_foreach_recurrence` over the masters alone, as a
/// small C program compiled here when libical-dev is installed) and through the whole
/// `outboard ics expand` process, in the same run so the machine's mood is shared.
enum ExpandBench {
    static let from = "2026-01-01T00:00:00Z", to = "2027-01-01T00:00:00Z"
    /// How many times each whole process (Outboard's and libical's, in turns) runs; the fastest
    /// of each counts. On a shared host a run is now and then slowed by other work; twenty runs each
    /// let both sides show their speed in the same conditions.
    static let processRuns = 20
    static let window: (Int64, Int64) = (
        RFC3339.seconds(year: 2026, month: 1, day: 1), RFC3339.seconds(year: 2027, month: 1, day: 1)
    )

    static func run(events: Int) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("outboard-expand-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // OUTBOARD_BENCH_KEEP=1 keeps the file (to profile `outboard ics expand` on it).
        defer {
            if ProcessInfo.processInfo.environment["OUTBOARD_BENCH_KEEP"] == nil {
                try? FileManager.default.removeItem(at: dir)
            } else {
                print("kept \(dir.path)")
            }
        }
        let file = dir.appendingPathComponent("recurring.ics")
        let bytes = try recurringPart(events: events)
        try Data(bytes).write(to: file)
        try inProcess(bytes, events: events)
        try processes(file: file, dir: dir)
    }

    /// The expansion, and the parse and expansion, in this process on one core.
    static func inProcess(_ bytes: [UInt8], events: Int) throws {
        let oneCore = ICalParser(concurrentThreshold: Int.max, parts: 1)
        let document = try oneCore.parse(bytes)
        let items = ItemGrouper.items(from: document).items
        let overrides = items.reduce(0) { $0 + $1.components.count { $0.recurrenceID != nil } }
        print(
            "recurring part of the \(events)-event feed: \(items.count) series, \(overrides) overrides, \(bytes.count / 1024) KiB; window \(from) to \(to)"
        )

        var count = 0
        let expand = fastest(15) {
            count = CalendarExpander(document: document).allInstances(from: window.0, to: window.1).count
        }
        print(
            String(
                format:
                    "Outboard, expand only (overrides merged, one core): %d instances in %.1f ms (%.0f instances/s)",
                count, expand * 1000, Double(count) / expand))
        let whole = fastest(15) {
            count =
                CalendarExpander(document: try! oneCore.parse(bytes)).allInstances(from: window.0, to: window.1).count
        }
        print(String(format: "Outboard, parse and expand (one core): %.1f ms", whole * 1000))
    }

    /// The whole `outboard ics expand` process and libical's, on `file`, and the goal's comparison.
    /// The two run in turns, `processRuns` times each, so that both meet the host in the same
    /// moods (a busy moment slows the two-threaded process more than the one-threaded); the
    /// fastest run of each counts. Outboard's is timed with its output read from the pipe as it
    /// comes, and its lines counted.
    static func processes(file: URL, dir: URL) throws {
        let process = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "outboard")
        let hasProcess = FileManager.default.isExecutableFile(atPath: process.path)
        if !hasProcess { print("outboard ics expand: skipped (build the outboard product in the same configuration)") }
        let libicalBinary = try libicalProgram(dir: dir)
        var processWall = Double.infinity
        var lines = 0
        var libicalWall = Double.infinity
        var libicalRuns: [(count: Int, parse: Double, expand: Double)] = []
        for _ in 0..<processRuns {
            if hasProcess {
                processWall = min(
                    processWall,
                    seconds {
                        lines = 0
                        run(process.path, ["ics", "expand", file.path, "--from", from, "--to", to]) {
                            lines += newlines(in: $0)
                        }
                    })
            }
            if let libicalBinary {
                var output = Data()
                libicalWall = min(
                    libicalWall,
                    seconds {
                        output = run(libicalBinary.path, [file.path, "20260101T000000Z", "20270101T000000Z"])
                    })
                let fields = String(decoding: output, as: UTF8.self)
                    .split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
                if fields.count == 3 { libicalRuns.append((Int(fields[0]), fields[1], fields[2])) }
            }
        }
        if hasProcess {
            print(
                String(
                    format: "outboard ics expand, the whole process (parse, expand, print %d lines): %.1f ms", lines,
                    processWall * 1000))
        }
        guard libicalBinary != nil else { return }
        guard let fastestExpansion = libicalRuns.min(by: { $0.expand < $1.expand }),
            let fastestSum = libicalRuns.min(by: { $0.parse + $0.expand < $1.parse + $1.expand })
        else {
            print("libical: the comparison program failed")
            return
        }
        print(
            String(
                format: "libical, expand only (masters alone, no overrides merged): %d instances in %.1f ms",
                fastestExpansion.count, fastestExpansion.expand))
        print(
            String(
                format:
                    "libical, parse and expand (the fastest run's sum): %.1f ms (parse %.1f); the whole process %.1f ms",
                fastestSum.parse + fastestSum.expand, fastestSum.parse, libicalWall * 1000))
        if hasProcess {
            print(
                String(
                    format:
                        "the whole process against libical's whole process: %.2f times as fast",
                    libicalWall / processWall))
        }
    }

    /// The feed's recurring items (masters with RRULE and their overrides) with its zones, as iCalendar.
    static func recurringPart(events: Int) throws -> [UInt8] {
        let document = try ICalParser().parse(Array(FeedGenerator(events: events).text().utf8))
        var calendar = document.calendars[0]
        let recurring = Set(calendar.components.filter { $0.property("RRULE") != nil }.compactMap(\.uid))
        calendar.components = calendar.components.filter { $0.name == "VTIMEZONE" || recurring.contains($0.uid ?? "") }
        return ICalWriter.write([calendar])
    }

    /// The fastest of `rounds` runs of `work`, in seconds.
    static func fastest(_ rounds: Int, _ work: () throws -> Void) rethrows -> Double {
        var best = Double.infinity
        for _ in 0..<rounds { best = min(best, try seconds(work)) }
        return best
    }

    /// How long one run of `work` takes, in seconds.
    static func seconds(_ work: () throws -> Void) rethrows -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try work()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }

    /// How many LF bytes `bytes` holds (found with memchr, to keep the reader light beside the
    /// process it times).
    static func newlines(in bytes: UnsafeRawBufferPointer) -> Int {
        guard var p = bytes.baseAddress else { return 0 }
        let end = p + bytes.count
        var count = 0
        while p < end, let hit = memchr(p, 0x0A, end - p) {
            count += 1
            p = UnsafeRawPointer(hit) + 1
        }
        return count
    }

    /// A process's standard output.
    static func run(_ path: String, _ arguments: [String]) -> Data {
        var data = Data()
        run(path, arguments) { data.append(contentsOf: $0) }
        return data
    }

    /// Runs a process, handing its standard output to `read` piece by piece as it comes (a
    /// mebibyte at most at a time, in one buffer used again). `readDataToEndOfFile` reads a
    /// pipe in small pieces into a growing buffer: the 8 MB of `ics expand` held the timed
    /// process up by several milliseconds (a reader such as `| wc -l` does not).
    static func run(_ path: String, _ arguments: [String], reading read: (UnsafeRawBufferPointer) -> Void) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        // `waitUntilExit` polls its run loop every 50 ms (swift-corelibs-foundation), which added
        // up to 50 ms to each process timed here: a semaphore is signalled at the exit itself.
        let exited = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in exited.signal() }
        guard (try? p.run()) != nil else { return }
        let fd = out.fileHandleForReading.fileDescriptor
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        buffer.withUnsafeMutableBytes { buffer in
            while true {
                let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                read(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
            }
        }
        exited.wait()
    }

    /// The libical 3 comparison program, compiled in `dir` when libical's headers are installed
    /// (`apt-get install libical-dev`); nil (having said why) when it cannot be.
    static func libicalProgram(dir: URL) throws -> URL? {
        let source = dir.appendingPathComponent("libical-expand.c")
        let binary = dir.appendingPathComponent("libical-expand")
        try libicalSource.write(to: source, atomically: true, encoding: .utf8)
        let flags = String(decoding: run("/usr/bin/pkg-config", ["--cflags", "--libs", "libical"]), as: UTF8.self)
            .split(whereSeparator: \.isWhitespace).map(String.init)
        guard !flags.isEmpty else {
            print("libical: skipped (apt-get install libical-dev to compare in the same run)")
            return nil
        }
        _ = run("/usr/bin/cc", ["-O2", "-o", binary.path, source.path] + flags)
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            print("libical: the comparison program did not compile")
            return nil
        }
        return binary
    }

    static let libicalSource = #"""
        #include <libical/ical.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <time.h>
        static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
        static void count(icalcomponent *c, struct icaltime_span *span, void *data) { (void)c; (void)span; (*(long *)data)++; }
        int main(int argc, char **argv) {
            if (argc < 4) return 2;
            FILE *f = fopen(argv[1], "rb");
            if (!f) return 1;
            fseek(f, 0, SEEK_END); long n = ftell(f); fseek(f, 0, SEEK_SET);
            char *text = malloc(n + 1); if (fread(text, 1, n, f) != (size_t)n) return 1; text[n] = 0; fclose(f);
            double t0 = now();
            icalcomponent *cal = icalparser_parse_string(text);
            double t1 = now();
            struct icaltimetype start = icaltime_from_string(argv[2]), end = icaltime_from_string(argv[3]);
            long instances = 0;
            for (icalcomponent *c = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); c;
                 c = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
                if (!icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY)) continue;
                if (icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY)) continue;
                icalcomponent_foreach_recurrence(c, start, end, count, &instances);
            }
            double t2 = now();
            printf("%ld %.3f %.3f\n", instances, t1 - t0, t2 - t1);
            return 0;
        }
        """#
}
