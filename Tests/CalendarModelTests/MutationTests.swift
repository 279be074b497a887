import Foundation
import Testing
import TestSupport
@testable import CalendarModel

@Suite struct MutationTests {
    /// Random byte edits, truncations and duplicated lines over every fixture: the parser must
    /// return a document or a clear error, never crash or hang, and whatever it returns must
    /// write and re-read to the same tree. Bounded in count and in time.
    @Test func mutatedInputNeverCrashesAndStillRoundTrips() throws {
        let fixtures = try Fixtures.icalendarFiles()
        var rng = SplitMix64(seed: 0x0B0A_2D)
        let deadline = Date().addingTimeInterval(20)
        var runs = 0, parsed = 0
        let interesting: [UInt8] = [0x0D, 0x0A, 0x20, 0x09, 0x3A, 0x3B, 0x2C, 0x22, 0x5C, 0x5E, 0x3D, 0xC3, 0xA9, 0xFF, 0x00, 0xF0]
        while runs < 3000, Date() < deadline {
            let f = fixtures[runs % fixtures.count]
            var bytes = f.bytes
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                guard !bytes.isEmpty else { break }
                switch Int.random(in: 0..<6, using: &rng) {
                case 0: bytes[Int.random(in: 0..<bytes.count, using: &rng)] = interesting.randomElement(using: &rng)!
                case 1: bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                case 2: bytes.removeLast(Int.random(in: 0..<bytes.count, using: &rng))
                case 3: bytes.remove(at: Int.random(in: 0..<bytes.count, using: &rng))
                case 4: bytes.insert(interesting.randomElement(using: &rng)!, at: Int.random(in: 0..<bytes.count, using: &rng))
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
            guard let doc = try? ICalParser().parse(bytes) else { continue }
            parsed += 1
            _ = ItemGrouper.items(from: doc).items.map { CanonicalForm.hash(of: $0) }
            let again = try ICalParser().parse(ICalWriter.write(doc.calendars))
            if let diff = firstDifference(doc.calendars, again.calendars) {
                Issue.record("round trip changed a mutated \(f.name) (run \(runs)): \(diff)")
            }
        }
        #expect(runs >= 100, "too few runs in the time bound: \(runs)")
        #expect(parsed > runs / 2, "most mutations should still parse: \(parsed) of \(runs)")
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
