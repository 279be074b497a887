import Engine
import EngineAdapters
import EngineDaemon
import Foundation
import Testing
import TestSupport

/// The status page of the real `outboard run` (nginx and the real target behind it): who gets
/// in and how (the token, the secret link and its cookie, writes guarded against other sites),
/// then the page in a real browser, headless Chromium: the table its script draws from
/// `/status`, with a hostile error message shown as text, its sync button pressed and the pass
/// seen on the target, and a screenshot kept.
@Suite(.serialized) struct StatusPageTests {
    static let chromium = "/usr/bin/chromium"

    /// Runs headless Chromium on `url` with `arguments` for at most 60 s (then it is killed by its
    /// PID); returns what it printed on standard output.
    func chromium(_ url: String, _ arguments: [String]) throws -> String {
        let dir = TargetProcess.temporaryDirectory()
        let out = dir.appendingPathComponent("stdout")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.chromium)
        p.arguments =
            [
                "--headless", "--no-sandbox", "--disable-gpu",
                "--user-data-dir=\(dir.appendingPathComponent("profile").path)",
                "--no-first-run", "--virtual-time-budget=8000",
            ] + arguments + [url]
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = FileHandle.nullDevice
        try p.run()
        killWhen(p) { false }  // it ends by itself; after 60 s it is killed
        return try String(contentsOf: out, encoding: .utf8)
    }

    @Test func theStatusPageShowsEverySubscriptionAndItsButtonTriggersAPass() async throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.chromium),
            "headless Chromium is needed (Debian package chromium; .ci/setup installs it)")
        let bed = try Bed()
        let daemon = try DaemonProcess(bed: bed)
        try bed.nginx.put("small.ics", feed([match(1), match(2)]))
        try daemon.subscribe("small", feed: "small.ics", collection: "/t/small")
        // A feed that is an HTML page: its error message quotes it, markup and all.
        try bed.nginx.put("hostile.ics", Array("<b>bold</b><img src=x onerror=alert(1)>\r\n".utf8))
        try daemon.subscribe("hostile", feed: "hostile.ics", collection: "/t/hostile")
        let base = try await daemon.start()
        #expect(
            try await eventually(30) {
                let s = try await daemonStatus(base)
                return s["small"]?["items"] as? Int == 2 && s["hostile"]?["consecutive-failures"] as? Int == 1
            }, "both subscriptions had their first pass")

        try await checkWhoGetsIn(base)

        // The page in the browser, by its secret link, asked to press the button of "small"
        // once drawn; the feed has changed meanwhile, so the pass it triggers shows on the target.
        try bed.nginx.put("small.ics", feed([match(1, summary: "Final"), match(2)]))
        let dom = try chromium(
            ControlEndpoint.pageLink(base: base, token: DaemonProcess.controlToken) + "&press=small", ["--dump-dom"])
        let small = try #require(row(dom, "small"), "\(dom)")
        #expect(
            small.contains(#"<td class="phase">waiting</td>"#) || small.contains(#"<td class="phase">running</td>"#))
        #expect(small.contains(#"<td class="items">2</td>"#), "\(small)")
        #expect(small.contains(#"<td class="failures">0</td>"#), "\(small)")
        #expect(small.contains("fresh: "), "\(small)")
        let hostile = try #require(row(dom, "hostile"), "\(dom)")
        #expect(hostile.contains(#"class="state-failing""#), "\(hostile)")
        #expect(hostile.contains("&lt;b&gt;bold&lt;/b&gt;"), "the error is shown as text: \(hostile)")
        #expect(!dom.contains("<b>bold</b>") && !dom.contains("<img"), "no markup of the feed's reached the page")
        #expect(
            try await eventually(30) { try await bed.summaries("/t/small")["match-1@club"] == "Final" },
            "pressing the button ran a pass")

        // A screenshot, kept as the test's artefact.
        let png = FileManager.default.temporaryDirectory.appendingPathComponent("outboard-status-page.png")
        try? FileManager.default.removeItem(at: png)
        _ = try chromium(
            ControlEndpoint.pageLink(base: base, token: DaemonProcess.controlToken),
            ["--screenshot=\(png.path)", "--window-size=1280,800", "--hide-scrollbars"])
        let bytes = try Data(contentsOf: png)
        #expect(bytes.count > 1000 && bytes.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        print("status page screenshot: \(png.path)")
    }

    /// The table row of subscription `id` in the dumped DOM.
    func row(_ dom: String, _ id: String) -> String? {
        guard let at = dom.range(of: #"<td class="id">\#(id)</td>"#),
            let start = dom[..<at.lowerBound].range(of: "<tr", options: .backwards),
            let end = dom[at.upperBound...].range(of: "</tr>")
        else { return nil }
        return String(dom[start.lowerBound..<end.upperBound])
    }

    /// The token, the secret link and its cookie, and what the cookie may not do.
    func checkWhoGetsIn(_ base: String) async throws {
        let anonymous = try await call("GET", base + "/", token: nil)
        #expect(anonymous.status == 401 && String(decoding: anonymous.body, as: UTF8.self).contains("?key=TOKEN"))
        let page = try await call("GET", base + "/")
        #expect(page.status == 200 && page.header("content-type")?.hasPrefix("text/html") == true)
        #expect(page.header("content-security-policy")?.hasPrefix("default-src 'none'; script-src 'self'") == true)
        #expect(try await call("GET", base + "/page.js", token: nil).status == 401)
        #expect(try await call("GET", base + "/?key=wrong", token: nil).status == 401)

        let link = try await call("GET", base + "/?key=\(DaemonProcess.controlToken)", token: nil)
        #expect(link.status == 303 && link.header("location") == "/", "the key leaves the address bar")
        let setCookie = try #require(link.header("set-cookie"))
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
            #expect(setCookie.contains(attribute), "\(setCookie)")
        }
        #expect(!setCookie.contains(DaemonProcess.controlToken), "the cookie is not the token")
        let cookie = ("Cookie", String(setCookie.prefix { $0 != ";" }))
        #expect(try await call("GET", base + "/status", token: nil, headers: [cookie]).status == 200)
        #expect(
            try await call("GET", base + "/status", token: nil, headers: [("Cookie", "outboard-control=x")]).status
                == 401)
        let trigger = base + "/subscriptions/small/sync"
        #expect(
            try await call("POST", trigger, token: nil, headers: [cookie]).status == 403,
            "a write with the cookie alone (a cross-site form) is refused")
        #expect(
            try await call(
                "POST", trigger, token: nil,
                headers: [cookie, ("X-Outboard-Page", "1"), ("Origin", "http://evil.example")]
            ).status == 403, "a write from another origin is refused")
    }
}
