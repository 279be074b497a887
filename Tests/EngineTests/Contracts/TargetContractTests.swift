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
