import Engine
import EngineAdapters
import EngineTesting
import Foundation
import Testing
import TestSupport

/// Every shipped target runs the target contract (`TargetContract`, in `EngineTesting`): the
/// in-memory double, and `CalWSTarget` against a real `outboard-target`.
@Suite struct TargetContractTests {
    @Test(arguments: TargetContract.requirements)
    func inMemoryTarget(_ requirement: TargetContract.Requirement) async throws {
        let target = InMemoryTarget()
        try await requirement.check(
            .init(target: target, reader: target.reader(), maxEntityBytes: InMemoryTarget.maxEntityBytes))
    }

    @Test(arguments: TargetContract.requirements)
    func calwsTargetAgainstOutboardTarget(_ requirement: TargetContract.Requirement) async throws {
        let dir = TargetProcess.temporaryDirectory()
        let tokens = dir.appendingPathComponent("tokens")
        try "all *\nreader /c/r:read\n".write(to: tokens, atomically: true, encoding: .utf8)
        let server = try TargetProcess.start(
            dataDirectory: dir.appendingPathComponent("data"), tokensFile: tokens.path, environmentToken: nil)
        try await requirement.check(
            .init(
                target: CalWSTarget(endpoint: server.endpoint, token: "all"),
                reader: CalWSTarget(endpoint: server.endpoint, token: "reader"), maxEntityBytes: 1 << 20,
                stop: { server.stop() }))
    }
}

/// `CalDAVTarget` against real CalDAV servers: the target contract on Radicale (with a user that
/// may only read) and on Xandikos (which checks no credentials here).
@Suite struct CalDAVTargetContractTests {
    static func target(_ server: CalDAVServerProcess, user: String = CalDAVServerProcess.user) -> CalDAVTarget? {
        let authorization =
            server.checksCredentials
            ? "Basic " + Data("\(user):\(CalDAVServerProcess.password)".utf8).base64EncodedString() : nil
        return CalDAVTarget(url: server.base, authorization: authorization, maxEntityBytes: 1 << 20)
    }

    @Test(arguments: TargetContract.requirements)
    func calDAVTargetAgainstRadicale(_ requirement: TargetContract.Requirement) async throws {
        try await check(requirement, on: .radicale)
    }

    @Test(arguments: TargetContract.requirements)
    func calDAVTargetAgainstXandikos(_ requirement: TargetContract.Requirement) async throws {
        try await check(requirement, on: .xandikos)
    }

    func check(_ requirement: TargetContract.Requirement, on kind: CalDAVServerProcess.Kind) async throws {
        let server = try CalDAVServerProcess.start(kind)
        // The contract's collections are under /c.
        try server.send("MKCOL", "/c/")
        let target = try #require(Self.target(server))
        try await requirement.check(
            .init(
                target: target,
                reader: server.checksCredentials ? Self.target(server, user: CalDAVServerProcess.reader) : nil,
                maxEntityBytes: 1 << 20, stop: { server.stop() }))
    }
}

/// `CalDAVTarget` against `outboard-target`'s own CalDAV face: the engine writes to the reference
/// target over CalDAV as it does to Radicale and Xandikos.
@Suite struct CalDAVTargetAgainstOutboardTargetTests {
    @Test(arguments: TargetContract.requirements)
    func calDAVTargetAgainstOutboardTarget(_ requirement: TargetContract.Requirement) async throws {
        let dir = TargetProcess.temporaryDirectory()
        let tokens = dir.appendingPathComponent("tokens")
        try "all *\nreader /c/r:read\n".write(to: tokens, atomically: true, encoding: .utf8)
        let server = try TargetProcess.start(
            dataDirectory: dir.appendingPathComponent("data"), tokensFile: tokens.path, environmentToken: nil)
        func target(_ token: String) -> CalDAVTarget? {
            CalDAVTarget(
                url: server.endpoint, authorization: "Basic " + Data("engine:\(token)".utf8).base64EncodedString(),
                maxEntityBytes: 4 << 20)
        }
        try await requirement.check(
            .init(
                target: try #require(target("all")), reader: target("reader"), maxEntityBytes: 1 << 20, root: "/dav/c",
                stop: { server.stop() }))
    }
}
