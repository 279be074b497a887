/// Generates a deterministic iCalendar feed that looks like a large real one: VTIMEZONEs, 15% of
/// events recurring with EXDATEs and overrides, alarms, attendees, long folded UTF-8 descriptions
/// and vendor X- properties. The same `events` and `seed` always give the same bytes.
public struct FeedGenerator {
    public var events: Int
    public var seed: UInt64

    public init(events: Int, seed: UInt64 = 42) {
        self.events = events
        self.seed = seed
    }

    private static let zones = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]
    private static let words = [
        "Spiel", "Training", "Fußball", "Basketball", "Regionalliga", "Heimspiel", "Auswärts",
        "Δοκιμή", "会議", "rencontre", "équipe", "Saison", "🏀", "Halle", "Stadion", "Tribüne",
    ]

    /// The feed's iCalendar text.
    public func text() -> String {
        var rng = SplitMix64(seed: seed)
        var out = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Outboard//Bench Feed//EN\r\nCALSCALE:GREGORIAN\r\n"
        out += "X-WR-CALNAME:Bench\r\nX-WR-TIMEZONE:Europe/Berlin\r\n"
        for zone in Self.zones { out += vtimezone(zone) }
        for i in 0..<events {
            let zone = Self.zones[i % Self.zones.count]
            let day = 1 + i % 28
            let month = 1 + (i / 28) % 12
            let hour = 8 + i % 10
            let start = "2026" + two(month) + two(day) + "T" + two(hour) + "0000"
            let end = "2026" + two(month) + two(day) + "T" + two(hour + 2) + "0000"
            var ev = "BEGIN:VEVENT\r\nUID:bench-\(i)@outboard.test\r\nDTSTAMP:20260101T000000Z\r\n"
            ev += "CREATED:20251201T120000Z\r\nLAST-MODIFIED:20251215T080000Z\r\nSEQUENCE:\(i % 3)\r\n"
            ev += "DTSTART;TZID=\(zone):\(start)\r\nDTEND;TZID=\(zone):\(end)\r\n"
            ev += "SUMMARY:\(sentence(&rng, 4))\r\n"
            ev += "DESCRIPTION:" + (0..<8).map { _ in sentence(&rng, 9) }.joined(separator: "\\n") + "\r\n"
            ev += "LOCATION:Halle \(i % 17)\\, Sportpark \(i % 5)\r\nCATEGORIES:Sport,Liga \(i % 4)\r\n"
            ev += "STATUS:CONFIRMED\r\nTRANSP:OPAQUE\r\nCLASS:PUBLIC\r\n"
            ev += "ORGANIZER;CN=Verein \(i % 9):mailto:org\(i % 9)@club.test\r\n"
            for a in 0..<3 {
                ev +=
                    "ATTENDEE;CN=Person \(a + i % 50);ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=TRUE:mailto:p\(a + i % 50)@club.test\r\n"
            }
            ev += "X-MICROSOFT-CDO-BUSYSTATUS:BUSY\r\nX-GOOGLE-CONFERENCE:https://meet.test/\(i)\r\n"
            let recurring = i % 20 < 3
            if recurring {
                ev += "RRULE:FREQ=WEEKLY;COUNT=20;BYDAY=MO,WE\r\n"
                ev += "EXDATE;TZID=\(zone):" + "2026" + two(month) + two(day) + "T" + two(hour) + "0000\r\n"
            }
            ev += "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nTRIGGER:-PT30M\r\nEND:VALARM\r\n"
            ev += "END:VEVENT\r\n"
            out += fold(ev)
            if recurring {
                let rid = "2026" + two(month) + two(min(day + 7, 28)) + "T" + two(hour) + "0000"
                out += fold(
                    "BEGIN:VEVENT\r\nUID:bench-\(i)@outboard.test\r\nRECURRENCE-ID;TZID=\(zone):\(rid)\r\n"
                        + "DTSTAMP:20260101T000000Z\r\nDTSTART;TZID=\(zone):\(rid)\r\nDTEND;TZID=\(zone):\(rid)\r\n"
                        + "SUMMARY:\(sentence(&rng, 5)) (verlegt)\r\nEND:VEVENT\r\n")
            }
        }
        return out + "END:VCALENDAR\r\n"
    }

    private func vtimezone(_ tzid: String) -> String {
        var s = "BEGIN:VTIMEZONE\r\nTZID:\(tzid)\r\nX-LIC-LOCATION:\(tzid)\r\n"
        for year in stride(from: 1996, to: 2026, by: 3) {
            s +=
                "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:\(year)0331T020000\r\n"
            s += "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU;UNTIL=\(year + 2)0331T010000Z\r\nEND:DAYLIGHT\r\n"
            s +=
                "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:\(year)1027T030000\r\n"
            s += "RDATE:\(year)1027T030000\r\nEND:STANDARD\r\n"
        }
        return s + "END:VTIMEZONE\r\n"
    }

    private func sentence(_ rng: inout SplitMix64, _ n: Int) -> String {
        (0..<n).map { _ in Self.words[Int(rng.next() % UInt64(Self.words.count))] }.joined(separator: " ")
    }

    private func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }

    /// Folds each line at 75 octets on a UTF-8 boundary.
    private func fold(_ block: String) -> String {
        var out = [UInt8]()
        for line in block.split(separator: "\r\n", omittingEmptySubsequences: true) {
            let b = Array(line.utf8)
            var start = 0
            var limit = 75
            while start < b.count {
                var end = min(start + limit, b.count)
                while end < b.count, b[end] & 0xC0 == 0x80 { end -= 1 }
                if start > 0 { out.append(0x20) }
                out += b[start..<end] + [0x0D, 0x0A]
                start = end
                limit = 74
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
