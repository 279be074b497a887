import Foundation
import Testing
import TestSupport
@testable import CalendarModel

@Suite struct MutationTests {
    /// Random byte edits, truncations and duplicated lines over every fixture: the parser must
    /// return a document or a clear error, never crash or hang, and whatever it returns must
    /// write and re-read to the same tree. A fixed number of runs from a fixed seed (about 4 s
    /// in a debug build), so every run of the test tries the same inputs; a hang fails it.
    @Test(.timeLimit(.minutes(1)))
    func mutatedInputNeverCrashesAndStillRoundTrips() throws {
        let fixtures = try Fixtures.icalendarFiles()
        var rng = SplitMix64(seed: 0x0B0A_2D)
        let total = 1500
        var runs = 0
        var parsed = 0
        let interesting: [UInt8] = [
            0x0D, 0x0A, 0x20, 0x09, 0x3A, 0x3B, 0x2C, 0x22, 0x5C, 0x5E, 0x3D, 0xC3, 0xA9, 0xFF, 0x00, 0xF0,
        ]
        while runs < total {
            let f = fixtures[runs % fixtures.count]
            var bytes = f.bytes
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                guard !bytes.isEmpty else { break }
                switch Int.random(in: 0..<6, using: &rng) {
                case 0: bytes[Int.random(in: 0..<bytes.count, using: &rng)] = interesting.randomElement(using: &rng)!
                case 1: bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                case 2: bytes.removeLast(Int.random(in: 0..<bytes.count, using: &rng))
                case 3: bytes.remove(at: Int.random(in: 0..<bytes.count, using: &rng))
                case 4:
                    bytes.insert(
                        interesting.randomElement(using: &rng)!, at: Int.random(in: 0..<bytes.count, using: &rng))
                default:
                    // Duplicate a whole physical line.
                    let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
                    let k = Int.random(in: 0..<lines.count, using: &rng)
                    var out: [UInt8] = []
                    for (i, l) in lines.enumerated() {
                        out += l + [0x0A]
                        if i == k { out += l + [0x0A] }
                    }
                    bytes = out
                }
            }
            runs += 1
            // Read in parts on several threads, a mutated stream reads exactly as in one piece
            // (or fails the same way).
            let whole = Result { () throws(ICalendarError) in try ICalParser.oneThread.parse(bytes) }
            let parts = Result { () throws(ICalendarError) in
                try ICalParser(concurrentThreshold: 0, parts: 2 + runs % 3).parse(bytes)
            }
            if let difference = partsDiffer(whole, parts) {
                Issue.record("a mutated \(f.name) read in parts differs (run \(runs)): \(difference)")
            }
            guard case .success(let doc) = whole else { continue }
            parsed += 1
            _ = ItemGrouper.items(from: doc).items.map { CanonicalForm.hash(of: $0) }
            let again = try ICalParser().parse(ICalWriter.write(doc.calendars))
            if let diff = firstDifference(doc.calendars, again.calendars) {
                Issue.record("round trip changed a mutated \(f.name) (run \(runs)): \(diff)")
            }
        }
        #expect(parsed > runs / 2, "most mutations should still parse: \(parsed) of \(runs)")
    }

    /// A large stream is read in parts on several threads; the document is the one a single
    /// reading gives, for every fixture and for a generated feed cut in two to five parts.
    @Test func readingInPartsGivesTheSameDocument() throws {
        var inputs = try Fixtures.icalendarFiles().map { ($0.name, $0.bytes) }
        inputs.append(("generated", Array(FeedGenerator(events: 300).text().utf8)))
        // Two calendars, a sloppy line and a missing END near a cut.
        let two =
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:b\r\nbroken line\r\n"
            + "BEGIN:VEVENT\r\nUID:c\r\nEND:VEVENT\r\nEND:VCALENDAR\r\nBEGIN:VCALENDAR\r\nX-A:1\r\nBEGIN:VEVENT\r\nUID:d\r\nEND:VEVENT\r\n"
        inputs.append(("two calendars", Array(two.utf8)))
        var cut = 0
        for (name, bytes) in inputs {
            let whole = Result { () throws(ICalendarError) in try ICalParser.oneThread.parse(bytes) }
            for parts in 2...5 {
                let inParts = Result { () throws(ICalendarError) in
                    try ICalParser(concurrentThreshold: 0, parts: parts).parse(bytes)
                }
                if let difference = partsDiffer(whole, inParts) {
                    Issue.record("\(name) in \(parts) parts: \(difference)")
                }
                if bytes.withUnsafeBufferPointer({ ParseRun.componentStart($0, from: bytes.count / parts) }) != nil {
                    cut += 1
                }
            }
        }
        #expect(cut > inputs.count * 2, "most inputs are actually cut")
    }
}

/// How a stream read in parts differs from the same stream read in one piece (nil when it does
/// not): trees, the lines of every component, diagnostics, or the error.
func partsDiffer(_ whole: Result<ICalDocument, ICalendarError>, _ parts: Result<ICalDocument, ICalendarError>)
    -> String?
{
    switch (whole, parts) {
    case (.failure(let a), .failure(let b)): return a == b ? nil : "error \(a) became \(b)"
    case (.success(let a), .success(let b)):
        if let d = firstDifference(a.calendars, b.calendars) { return d }
        func lines(_ cs: [ICalComponent]) -> [Int] { cs.flatMap { [$0.line] + lines($0.components) } }
        if lines(a.calendars) != lines(b.calendars) {
            return "component lines \(lines(a.calendars)) became \(lines(b.calendars))"
        }
        return a.diagnostics == b.diagnostics ? nil : "diagnostics \(a.diagnostics) became \(b.diagnostics)"
    default: return "\(whole) became \(parts)"
    }
}

/// Where two trees first differ, said briefly (nil when equal).
func firstDifference(_ a: [ICalComponent], _ b: [ICalComponent]) -> String? {
    if a.count != b.count { return "\(a.count) components became \(b.count): \(a.map(\.name)) vs \(b.map(\.name))" }
    for (x, y) in zip(a, b) where x != y {
        if x.name != y.name { return "component \(x.name) became \(y.name)" }
        for (p, q) in zip(x.properties, y.properties) where p != q { return "in \(x.name): \(p) became \(q)" }
        if x.properties.count != y.properties.count {
            return "in \(x.name): properties \(x.properties.map(\.name)) became \(y.properties.map(\.name))"
        }
        if let d = firstDifference(x.components, y.components) { return "in \(x.name): " + d }
    }
    return nil
}
