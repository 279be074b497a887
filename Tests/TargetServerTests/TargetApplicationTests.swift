import CalendarModel
import CalWS
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
@testable import TargetServer
import Testing
import TestSupport

/// The reference target's routes, tokens, ETags and refusals, tested in process on the same
/// `buildTargetApplication` the executable runs (HummingbirdTesting's router framework: no
/// socket, no process). `TargetServerTests` keeps the real binary over real HTTP.
@Suite struct TargetApplicationTests {
    static func app(maxBodyBytes: Int = 64 << 20) throws -> some ApplicationProtocol {
        let tokens = TokenTable(entries: [
            "all": Grants(all: true), "athletics": Grants(collections: ["/public/athletics"]),
        ])
        let config = TargetConfiguration(
            dataDirectory: TargetProcess.temporaryDirectory().path, port: 0, tokens: tokens, maxBodyBytes: maxBodyBytes)
        return try buildTargetApplication(config, logger: Logger(label: "test"))
    }

    static func soap(_ request: CalWSRequest) -> ByteBuffer {
        ByteBuffer(bytes: MessageCodec.encode(request))
    }

    static func add(_ uid: String, to collection: String) throws -> ByteBuffer {
        let text =
            [
                "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", "BEGIN:VEVENT", "UID:\(uid)",
                "DTSTAMP:20260101T000000Z",
                "DTSTART:20260301T150000Z", "SUMMARY:Match", "END:VEVENT", "END:VCALENDAR",
            ].joined(separator: "\r\n") + "\r\n"
        return soap(CalWSRequest(.addItem(href: collection, calendar: try ICalParser().parse(text).calendars[0])))
    }

    static func bearer(_ token: String) -> HTTPFields {
        [.authorization: "Bearer \(token)", .contentType: "text/xml; charset=utf-8"]
    }

    @Test func healthAndMetricsNeedNoTokenButCalWSDoes() async throws {
        try await Self.app().test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/metrics", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/calws", method: .post, body: try Self.add("a@x", to: "/public/athletics")) {
                r in
                #expect(r.status == .unauthorized)
                #expect(r.headers[.wwwAuthenticate] == "Bearer")
                #expect(String(buffer: r.body) == "a bearer token is required\n")
            }
            try await client.execute(
                uri: "/calws", method: .post, headers: Self.bearer("nobody"),
                body: try Self.add("a@x", to: "/public/athletics")
            ) {
                #expect($0.status == .unauthorized, "an unknown token")
            }
        }
    }

    @Test func aTokenReachesOnlyItsCollections() async throws {
        try await Self.app().test(.router) { client in
            try await client.execute(
                uri: "/calws", method: .post, headers: Self.bearer("athletics"),
                body: try Self.add("a@x", to: "/public/athletics")
            ) {
                #expect($0.status == .ok)
            }
            try await client.execute(
                uri: "/calws", method: .post, headers: Self.bearer("athletics"),
                body: try Self.add("h@x", to: "/public/holidays")
            ) { r in
                #expect(r.status == .forbidden)
                #expect(String(buffer: r.body).contains("this token is not granted /public/holidays"))
            }
            try await client.execute(
                uri: "/calendars/public/holidays.ics", method: .get, headers: Self.bearer("athletics")
            ) {
                #expect($0.status == .forbidden)
            }
        }
    }

    @Test func aPublishedCollectionHasAStrongETagAndAnswers304() async throws {
        try await Self.app().test(.router) { client in
            _ = try await client.execute(
                uri: "/calws", method: .post, headers: Self.bearer("all"),
                body: try Self.add("a@x", to: "/public/athletics"))
            let etag = try await client.execute(
                uri: "/calendars/public/athletics.ics", method: .get, headers: Self.bearer("all")
            ) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType] == "text/calendar; charset=utf-8")
                #expect(String(buffer: r.body).contains("UID:a@x"))
                return try #require(r.headers[.eTag])
            }
            #expect(etag.hasPrefix("\"") && !etag.hasPrefix("W/"))
            try await client.execute(
                uri: "/calendars/public/athletics.ics", method: .get,
                headers: [.authorization: "Bearer all", .ifNoneMatch: etag]
            ) {
                #expect($0.status == .notModified)
                #expect($0.body.readableBytes == 0)
            }
            try await client.execute(uri: "/calendars/public/none.ics", method: .get, headers: Self.bearer("all")) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/calendars/public/athletics.ics", method: .get) {
                #expect($0.status == .unauthorized)
            }
        }
    }

    @Test func hostileAndOversizedBodiesAreRefusedBeforeAnythingIsStored() async throws {
        try await Self.app(maxBodyBytes: 4096).test(.router) { client in
            let doctype = #"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>"#
            try await client.execute(
                uri: "/calws", method: .post, headers: Self.bearer("all"), body: ByteBuffer(string: doctype)
            ) { r in
                #expect(r.status == .internalServerError)
                #expect(String(buffer: r.body).contains("faultstring"))
            }
            let big = ByteBuffer(string: String(repeating: "x", count: 8192))
            try await client.execute(uri: "/calws", method: .post, headers: Self.bearer("all"), body: big) { r in
                #expect(r.status == .contentTooLarge)
                #expect(String(buffer: r.body).contains("the body exceeds 4096 bytes"))
            }
            try await client.execute(uri: "/calendars/public/athletics.ics", method: .get, headers: Self.bearer("all"))
            {
                #expect($0.status == .notFound, "nothing was stored")
            }
        }
    }
}
