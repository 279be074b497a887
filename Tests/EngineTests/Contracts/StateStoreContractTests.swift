import Engine
import EngineAdapters
import EngineTesting
import GRDB
import Testing
import TestSupport

/// Every shipped store runs the store contract (`StoreContract`, in `EngineTesting`): the
/// in-memory store, and the SQLite store on a file and on a GRDB queue in memory.
@Suite struct StateStoreContractTests {
    @Test(arguments: StoreContract.requirements)
    func inMemoryStateStore(_ requirement: StoreContract.Requirement) async throws {
        try await requirement.check(.init { InMemoryStateStore() })
    }

    @Test(arguments: StoreContract.requirements)
    func sqliteStatusStoreOnAFile(_ requirement: StoreContract.Requirement) async throws {
        try await requirement.check(.init { try StatusStore(directory: TargetProcess.temporaryDirectory().path) })
    }

    @Test(arguments: StoreContract.requirements)
    func sqliteStatusStoreOnAQueue(_ requirement: StoreContract.Requirement) async throws {
        try await requirement.check(
            .init { try StatusStore(DatabaseQueue(), lockDirectory: TargetProcess.temporaryDirectory().path) })
    }

    @Test func aStatusStoreKeepsItsWriterWhenOpenedAgain() throws {
        let directory = TargetProcess.temporaryDirectory().path
        let writer = try StatusStore(directory: directory).writer
        #expect(try StatusStore(directory: directory).writer == writer)
    }
}
