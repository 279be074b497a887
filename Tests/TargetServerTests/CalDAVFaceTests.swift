import CalWS
import CalendarModel
import EngineAdapters
import Foundation
import SyncCore
import Testing
import TestSupport

/// The reference target's CalDAV face with a real client, the python `caldav` library (from the
/// `.venv` that `.ci/setup` makes): discovery from the bare URL, the calendars a token may see,
/// a date search with expand, free-busy, and sync tokens before and after a mirrored change, at
/// each access level.
@Suite struct CalDAVFaceTests {
    /// What the client script does, printed as one JSON object.
    static let script = """
        import sys, json, datetime, caldav
        base, password, token = sys.argv[1], sys.argv[2], sys.argv[3]
        utc = datetime.timezone.utc
        start, end = datetime.datetime(2026, 3, 2, tzinfo=utc), datetime.datetime(2026, 3, 9, tzinfo=utc)
        out = {}
        with caldav.DAVClient(url=base, username="label", password=password) as client:
            calendars = client.principal().calendars()
            out["calendars"] = sorted(str(c.url) for c in calendars)
            c = [c for c in calendars if str(c.url).endswith("/dav/public/athletics/")][0]
            try:
                found = c.search(start=start, end=end, event=True, expand=True)
                out["expanded"] = sorted(
                    [str(e.icalendar_component["uid"]), e.icalendar_component["dtstart"].dt.isoformat()] for e in found)
            except Exception as e:
                out["expanded"] = "refused: " + type(e).__name__
            fb = c.freebusy_request(start, end)
            out["busy"] = sorted(
                str(p.to_ical(), "ascii") for v in fb.icalendar_instance.walk("VFREEBUSY")
                for p in (v.get("FREEBUSY") if isinstance(v.get("FREEBUSY"), list) else [v.get("FREEBUSY")]) if p is not None)
            try:
                synced = c.objects_by_sync_token(sync_token=token or None, load_objects=False)
                out["sync"] = {"token": synced.sync_token, "changed": sorted(str(o.url) for o in synced)}
            except Exception as e:
                out["sync"] = "refused: " + type(e).__name__
        print(json.dumps(out))
        """

    struct Answer: Decodable {
        var calendars: [String]
        var expanded: Expanded
        var busy: [String]
        var sync: Sync

        enum Expanded: Decodable, Equatable {
            case instances([[String]])
            case refused(String)
            init(from decoder: Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let s = try? c.decode(String.self) {
                    self = .refused(s)
                } else {
                    self = .instances(try c.decode([[String]].self))
                }
            }
        }

        enum Sync: Decodable, Equatable {
            case answered(token: String, changed: [String])
            case refused(String)
            struct Body: Decodable {
                var token: String
                var changed: [String]
            }
            init(from decoder: Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let s = try? c.decode(String.self) {
                    self = .refused(s)
                } else {
                    let b = try c.decode(Body.self)
                    self = .answered(token: b.token, changed: b.changed)
                }
            }
        }
    }

    /// Runs the script as a client with `password` (a token), syncing from `token` ("" for none).
    static func client(_ base: String, password: String, token: String = "") throws -> Answer {
        let dir = TargetProcess.temporaryDirectory()
        let file = dir.appendingPathComponent("client.py")
        try script.write(to: file, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = CalDAVServerProcess.venv.appendingPathComponent("bin/python")
        p.arguments = [file.path, base, password, token]
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        p.waitForExit()
        guard p.terminationStatus == 0 else {
            throw ClientFailure(output: String(decoding: errors, as: UTF8.self))
        }
        return try JSONDecoder().decode(Answer.self, from: data)
    }

    struct ClientFailure: Error, CustomStringConvertible {
        var output: String
        var description: String { "the caldav client failed: \(output)" }
    }

    static func event(_ uid: String, _ lines: [String]) throws -> ICalComponent {
        let text =
            ([
                "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", "BEGIN:VEVENT", "UID:\(uid)",
                "DTSTAMP:20260101T000000Z",
            ]
            + lines + ["END:VEVENT", "END:VCALENDAR"]).joined(separator: "\r\n") + "\r\n"
        return try ICalParser().parse(text).calendars[0]
    }

    @Test func theCaldavLibraryDiscoversSearchesAndSyncsAtEachAccessLevel() async throws {
        let dir = TargetProcess.temporaryDirectory()
        let tokens = dir.appendingPathComponent("tokens")
        try """
        all *
        reader /public/athletics:read
        busy /public/athletics:freebusy

        """.write(to: tokens, atomically: true, encoding: .utf8)
        let server = try TargetProcess.start(
            dataDirectory: dir.appendingPathComponent("data"), tokensFile: tokens.path, environmentToken: nil)
        defer { server.stop() }
        let calws = TargetClient(endpoint: server.endpoint, token: "all")
        _ = try await calws.addItem(
            collection: "/public/athletics",
            calendar: try Self.event(
                "training@club",
                ["DTSTART:20260302T180000Z", "DURATION:PT1H30M", "RRULE:FREQ=WEEKLY;COUNT=4", "SUMMARY:Training"]))
        _ = try await calws.addItem(
            collection: "/public/athletics",
            calendar: try Self.event(
                "match@club", ["DTSTART:20260305T150000Z", "DTEND:20260305T170000Z", "SUMMARY:Match"]))
        _ = try await calws.addItem(
            collection: "/public/holidays",
            calendar: try Self.event("holiday@x", ["DTSTART;VALUE=DATE:20260406", "SUMMARY:Easter Monday"]))
        let base = server.endpoint.replacingOccurrences(of: "/calws", with: "/")

        let all = try Self.client(base, password: "all")
        #expect(
            all.calendars.map { $0.hasSuffix("/dav/public/athletics/") || $0.hasSuffix("/dav/public/holidays/") } == [
                true, true,
            ])
        #expect(
            all.expanded
                == .instances([
                    ["match@club", "2026-03-05T15:00:00+00:00"], ["training@club", "2026-03-02T18:00:00+00:00"],
                ]), "one instance per occurrence in the week")
        #expect(all.busy.count == 2, "\(all.busy)")
        guard case .answered(let token, let changed) = all.sync else {
            Issue.record("sync-collection was refused: \(all.sync)")
            return
        }
        #expect(changed.count == 2)

        // A mirrored change (a pass writing through CalWS), then the client syncs from its token.
        _ = try await calws.addItem(
            collection: "/public/athletics",
            calendar: try Self.event(
                "friendly@club", ["DTSTART:20260307T100000Z", "DURATION:PT1H", "SUMMARY:Friendly"]))
        let after = try Self.client(base, password: "all", token: token)
        guard case .answered(let next, let delta) = after.sync else {
            Issue.record("sync-collection from a token was refused: \(after.sync)")
            return
        }
        #expect(next != token && delta.count == 1 && delta[0].hasSuffix(".ics"), "\(delta)")

        // Read: the one collection granted; the same answers.
        let reader = try Self.client(base, password: "reader")
        #expect(reader.calendars.count == 1 && reader.calendars[0].hasSuffix("/dav/public/athletics/"))
        if case .instances(let i) = reader.expanded {
            #expect(i.count == 3)
        } else {
            Issue.record("\(reader.expanded)")
        }

        // Free-busy only: the calendar is listed and answers free-busy, and nothing else.
        let busy = try Self.client(base, password: "busy")
        #expect(busy.calendars.count == 1)
        #expect(busy.busy.count == 3, "\(busy.busy)")
        #expect(busy.expanded != .instances([]) && { if case .refused = busy.expanded { true } else { false } }())
        #expect({ if case .refused = busy.sync { true } else { false } }(), "\(busy.sync)")
    }
}

/// vdirsyncer (from the `.venv`) syncs a view of `outboard-target` (two collections) into a
/// folder, then again after a mirrored change: it copies the one changed item.
@Suite struct VdirsyncerTests {
    static func run(_ arguments: [String], config: URL) throws -> String {
        let p = Process()
        p.executableURL = CalDAVServerProcess.venv.appendingPathComponent("bin/vdirsyncer")
        p.arguments = ["--config", config.path] + arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitForExit()
        let text = String(decoding: data, as: UTF8.self)
        guard p.terminationStatus == 0 else { throw CalDAVFaceTests.ClientFailure(output: text) }
        return text
    }

    @Test func vdirsyncerCopiesAViewAndThenOnlyWhatChanged() async throws {
        let dir = TargetProcess.temporaryDirectory()
        let tokens = dir.appendingPathComponent("tokens")
        try "all *\nreader views/sports:read\n".write(to: tokens, atomically: true, encoding: .utf8)
        let views = dir.appendingPathComponent("views.yaml")
        try "sports:\n  collections: [/public/athletics, /public/swimming]\n  detail: full\n".write(
            to: views, atomically: true, encoding: .utf8)
        let server = try TargetProcess.start(
            dataDirectory: dir.appendingPathComponent("data"), tokensFile: tokens.path, environmentToken: nil,
            arguments: ["--views", views.path])
        defer { server.stop() }
        let calws = TargetClient(endpoint: server.endpoint, token: "all")
        for n in 1...3 {
            _ = try await calws.addItem(
                collection: n == 3 ? "/public/swimming" : "/public/athletics",
                calendar: try CalDAVFaceTests.event(
                    "m\(n)@club", ["DTSTART:2026030\(n)T150000Z", "DURATION:PT2H", "SUMMARY:Match \(n)"]))
        }
        let folder = dir.appendingPathComponent("calendar")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let config = dir.appendingPathComponent("vdirsyncer.conf")
        let base = server.endpoint.replacingOccurrences(of: "/calws", with: "")
        try """
        [general]
        status_path = "\(dir.appendingPathComponent("status").path)"

        [pair sports]
        a = "server"
        b = "folder"
        collections = null

        [storage server]
        type = "caldav"
        url = "\(base)/dav/@views/sports/"
        username = "vdirsyncer"
        password = "reader"
        read_only = true

        [storage folder]
        type = "filesystem"
        path = "\(folder.path)"
        fileext = ".ics"

        """.write(to: config, atomically: true, encoding: .utf8)
        _ = try Self.run(["discover", "sports"], config: config)
        let first = try Self.run(["sync", "sports"], config: config)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".ics") }
        #expect(files.count == 3, "\(first)")

        // A pass changes one event (through CalWS, as the engine writes).
        let current = try #require(try await calws.fetch(uid: "m2@club", in: "/public/athletics"))
        let moved = try CalDAVFaceTests.event(
            "m2@club", ["DTSTART:20260302T150000Z", "DURATION:PT2H", "SUMMARY:Match 2 (moved)"])
        _ = try await calws.updateItem(
            href: current.href, changeToken: current.changeToken,
            update: Differ.diff(source: moved, target: try #require(current.calendar)))
        let second = try Self.run(["-v", "INFO", "sync", "sports"], config: config)
        let copied = second.split(separator: "\n").filter { $0.contains("Copying") }
        #expect(copied.count == 1 && copied[0].contains("updating"), "one item fetched and written: \(second)")
        let texts = try FileManager.default.contentsOfDirectory(atPath: folder.path).map {
            try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8)
        }
        #expect(texts.filter { $0.contains("Match 2 (moved)") }.count == 1)
    }
}
