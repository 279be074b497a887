import CalendarModel
import Foundation
import SyncCore
import Testing
import TestSupport

/// The items of the realistic export fixtures beside the calendar-model tests.
func fixtureItems() throws -> [(String, ICalItem)] {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("CalendarModelTests/Fixtures")
    let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".ics") }.sorted()
    var out: [(String, ICalItem)] = []
    for n in names {
        let doc = try ICalParser().parse(Array(try Data(contentsOf: dir.appendingPathComponent(n))))
        out += ItemGrouper.items(from: doc).items.map { (n, $0) }
    }
    return out
}

/// Random edits of meaning: the kinds of change a feed makes between two exports.
struct ItemMutator {
    var rng: SplitMix64

    mutating func mutate(_ item: ICalItem) -> ICalItem {
        var item = item
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            guard !item.components.isEmpty else { break }
            let ci = Int.random(in: 0..<item.components.count, using: &rng)
            switch Int.random(in: 0..<12, using: &rng) {
            case 0, 1: changeValue(&item.components[ci])
            case 2: item.components[ci].properties.append(newProperty())
            case 3: removeProperty(&item.components[ci])
            case 4: changeParameter(&item.components[ci])
            case 5:
                // A new override of this item.
                var o = item.components[ci]
                o.properties.removeAll { ["RRULE", "RDATE", "EXDATE", "RECURRENCE-ID"].contains($0.name) }
                let day = Int.random(in: 1...28, using: &rng)
                o.properties.append(
                    ICalProperty(
                        "RECURRENCE-ID",
                        .dateTime(.init(year: 2027, month: 3, day: day, hour: 9, minute: 0, second: 0, isUTC: true))))
                item.components.append(o)
            case 6:
                if item.components.count > 1 { item.components.remove(at: ci) }
            case 7:
                item.components[ci].components.append(
                    ICalComponent(
                        name: "VALARM",
                        properties: [
                            ICalProperty("ACTION", .text("DISPLAY")),
                            ICalProperty(
                                "TRIGGER",
                                .duration(.init(isNegative: true, minutes: Int.random(in: 1...90, using: &rng)))),
                            ICalProperty("DESCRIPTION", .text("Reminder")),
                        ]))
            case 8:
                if !item.components[ci].components.isEmpty {
                    let k = Int.random(in: 0..<item.components[ci].components.count, using: &rng)
                    if Bool.random(using: &rng) {
                        item.components[ci].components.remove(at: k)
                    } else {
                        changeValue(&item.components[ci].components[k])
                    }
                }
            case 9:
                item.components[ci].properties.shuffle(using: &rng)  // no meaning
            case 10:
                item.components[ci].properties.append(
                    ICalProperty(
                        "CATEGORIES", .text(["Cup", "League", "Sport", "Friendly"].randomElement(using: &rng)!)))
            default:
                item.components[ci].properties.append(
                    ICalProperty(
                        "ATTENDEE", .calAddress("mailto:p\(Int.random(in: 0..<5, using: &rng))@x.org"),
                        parameters: [ICalParameter("PARTSTAT", ["ACCEPTED", "DECLINED"].randomElement(using: &rng)!)]))
            }
        }
        return item
    }

    mutating func changeValue(_ c: inout ICalComponent) {
        let candidates = c.properties.indices.filter { !["UID", "RECURRENCE-ID"].contains(c.properties[$0].name) }
        guard let i = candidates.randomElement(using: &rng) else { return }
        c.properties[i].values = ICalValues(
            c.properties[i].values.map { v -> ICalValue in
                switch v {
                case .text(let s): return .text(s + " (changed)")
                case .dateTime(var dt):
                    dt.time.hour = (dt.time.hour + 1) % 24
                    return .dateTime(dt)
                case .date(var d):
                    d.day = d.day % 28 + 1
                    return .date(d)
                case .integer(let n): return .integer(n + 1)
                case .calAddress(let a): return .calAddress(a + "x")
                case .uri(let u): return .uri(u + "/x")
                default: return .unknown("replaced")
                }
            })
    }

    mutating func newProperty() -> ICalProperty {
        [
            ICalProperty("X-NEW", .text("n\(Int.random(in: 0..<3, using: &rng))")),
            ICalProperty("COMMENT", .text("added")),
            ICalProperty(
                "EXDATE",
                .dateTime(
                    .init(
                        year: 2027, month: 1, day: Int.random(in: 1...28, using: &rng), hour: 9, minute: 0, second: 0,
                        isUTC: true))),
            ICalProperty("RESOURCES", .text("Projector")),
        ].randomElement(using: &rng)!
    }

    mutating func removeProperty(_ c: inout ICalComponent) {
        let candidates = c.properties.indices.filter { !["UID", "RECURRENCE-ID"].contains(c.properties[$0].name) }
        if let i = candidates.randomElement(using: &rng) { c.properties.remove(at: i) }
    }

    mutating func changeParameter(_ c: inout ICalComponent) {
        guard let i = c.properties.indices.randomElement(using: &rng), c.properties[i].name != "UID" else { return }
        if let k = c.properties[i].parameters.indices.randomElement(using: &rng), Bool.random(using: &rng) {
            if Bool.random(using: &rng) {
                c.properties[i].parameters.remove(at: k)
            } else {
                c.properties[i].parameters[k].values = ["CHANGED"]
            }
        } else {
            c.properties[i].parameters.append(ICalParameter("X-P", "v\(Int.random(in: 0..<3, using: &rng))"))
        }
    }
}

@Suite struct ContractTests {
    @Test func diffOfAnItemWithItselfIsEmptyForEveryFixture() throws {
        for (file, item) in try fixtureItems() {
            let d = Differ.diff(source: item, target: item)
            #expect(d.isEmpty, "\(file) \(item.key): \(ChangeSetPrinter.lines(d))")
        }
    }

    /// apply(diff(s, t), t) equals s except in skipped fields, over every fixture item and
    /// thousands of randomly mutated versions of them and of a generated feed.
    @Test func applyingTheDiffGivesTheSourceOverThousandsOfMutations() throws {
        var targets = try fixtureItems().map(\.1)
        let generated = try ICalParser().parse(Array(FeedGenerator(events: 300, seed: 7).text().utf8))
        targets += ItemGrouper.items(from: generated).items
        var mutator = ItemMutator(rng: SplitMix64(seed: 0xD1FF))
        let skips: [SkipList] = [
            .defaults, .none,
            SkipList.defaults.merging(SkipList(components: ["VALARM"], properties: ["X-*"], parameters: ["PARTSTAT"])),
        ]
        var checked = 0
        var changed = 0
        for round in 0..<6 {
            for t in targets {
                let s = mutator.mutate(t)
                let skip = skips[(checked + round) % skips.count]
                let d = Differ.diff(source: s, target: t, skip: skip)
                do {
                    let applied = try Applier.apply(d, to: t)
                    if !same(applied, s, skip: skip) {
                        Issue.record(
                            "\(t.key): apply(diff) differs from the source\n\(ChangeSetPrinter.lines(d).joined(separator: "\n"))"
                        )
                    }
                    #expect(
                        Differ.diff(source: s, target: applied, skip: skip).isEmpty,
                        "a second diff after applying is not empty for \(t.key)")
                } catch {
                    Issue.record("\(t.key): \(error)\n\(ChangeSetPrinter.lines(d).joined(separator: "\n"))")
                }
                if !d.isEmpty { changed += 1 }
                checked += 1
            }
        }
        #expect(checked >= 2000)
        #expect(changed > checked / 2)
    }
}
