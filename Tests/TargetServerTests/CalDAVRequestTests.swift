import CalWS
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
@testable import TargetServer
import Testing
import TestSupport

/// The CalDAV face in process: hostile and malformed requests are refused without effect, as
/// the CalWS endpoint refuses them; unknown reports, infinite depth and path tricks included.
@Suite struct CalDAVRequestTests {
    static func basic(_ token: String, depth: String? = nil) -> HTTPFields {
        var h: HTTPFields = [
            .authorization: "Basic " + Data("someone:\(token)".utf8).base64EncodedString(),
            .contentType: "application/xml; charset=utf-8",
        ]
        if let depth { h[HTTPField.Name("Depth")!] = depth }
        return h
    }

    static let propfind = HTTPRequest.Method("PROPFIND")!
    static let report = HTTPRequest.Method("REPORT")!

    @Test func hostileAndMalformedRequestsAreRefusedWithoutEffect() async throws {
        let app = try TargetApplicationTests.app()
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/calws", method: .post, headers: TargetApplicationTests.bearer("all"),
                body: try TargetApplicationTests.add("a@x", to: "/public/athletics")
            ) { #expect($0.status == .ok) }
            let revision = { () async throws -> String in
                try await client.execute(
                    uri: "/dav/public/athletics/", method: Self.propfind, headers: Self.basic("all", depth: "0")
                ) { r in String(buffer: r.body) }
            }
            let before = try await revision()
            #expect(before.contains("<d:getetag>&quot;c1&quot;</d:getetag>") || before.contains("\"c1\""), "\(before)")

            // No credentials, wrong ones.
            try await client.execute(uri: "/dav/", method: Self.propfind) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/dav/", method: Self.propfind, headers: Self.basic("nobody")) {
                #expect($0.status == .unauthorized)
            }
            // A body over the limit; XML nested past the reader's depth; an entity declaration.
            let huge = ByteBuffer(repeating: UInt8(ascii: " "), count: (1 << 20) + 10)
            try await client.execute(
                uri: "/dav/public/athletics/", method: Self.report, headers: Self.basic("all"), body: huge
            ) {
                #expect($0.status == .contentTooLarge)
            }
            let deep = String(repeating: "<d:x>", count: 5000) + String(repeating: "</d:x>", count: 5000)
            try await client.execute(
                uri: "/dav/public/athletics/", method: Self.report, headers: Self.basic("all"),
                body: ByteBuffer(string: "<d:sync-collection xmlns:d=\"DAV:\">\(deep)</d:sync-collection>")
            ) { #expect($0.status == .badRequest) }
            let bomb = """
                <?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
                <d:propfind xmlns:d="DAV:"><d:prop><d:displayname>&b;</d:displayname></d:prop></d:propfind>
                """
            try await client.execute(
                uri: "/dav/public/athletics/", method: Self.propfind, headers: Self.basic("all", depth: "0"),
                body: ByteBuffer(string: bomb)
            ) { #expect($0.status == .badRequest) }
            // An unknown report, an infinite depth, a report on the home.
            try await client.execute(
                uri: "/dav/public/athletics/", method: Self.report, headers: Self.basic("all"),
                body: ByteBuffer(string: "<d:expand-property xmlns:d=\"DAV:\"/>")
            ) { r in
                #expect(r.status == .forbidden && String(buffer: r.body).contains("supported-report"))
            }
            try await client.execute(uri: "/dav/", method: Self.propfind, headers: Self.basic("all", depth: "infinity"))
            { r in
                #expect(r.status == .forbidden && String(buffer: r.body).contains("propfind-finite-depth"))
            }
            // Path tricks: out of /dav, a dot segment, an empty segment, an encoded slash.
            for path in [
                "/dav/../calws", "/dav/public/%2e%2e/athletics/", "/dav/public//athletics/",
                "/dav/public%2Fathletics/x.ics",
            ] {
                try await client.execute(uri: path, method: .get, headers: Self.basic("all")) { r in
                    #expect(r.status == .notFound || r.status == .methodNotAllowed, "\(path): \(r.status)")
                }
            }
            // A PUT that is not calendar data, and one to a collection the token may only read.
            try await client.execute(
                uri: "/dav/public/athletics/b.ics", method: .put, headers: Self.basic("all"),
                body: ByteBuffer(string: "<html>not a calendar</html>")
            ) { #expect($0.status == .badRequest) }
            try await client.execute(
                uri: "/dav/public/holidays/", method: HTTPRequest.Method("MKCALENDAR")!,
                headers: Self.basic("athletics")
            ) { #expect($0.status == .forbidden) }
            #expect(try await revision() == before, "nothing was written")
        }
    }
}
