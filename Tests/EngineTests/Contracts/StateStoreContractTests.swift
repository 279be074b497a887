import Engine
import EngineAdapters
import EngineTesting
import GRDB
import Testing
import TestSupport

/// Every shipped store runs the store contract (`StoreContract`, in `EngineTesting`): the
/// in-memory store, the SQLite store on a file and on a GRDB queue in memory, and the PostgreSQL
/// store on a real server (one per requirement, each store in a database of its own).
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

    @Test(arguments: StoreContract.requirements)
    func postgresStore(_ requirement: StoreContract.Requirement) async throws {
        let server = try PostgresProcess.start()
        try await requirement.check(
            .init(stop: { server.remove() }) {
                switch PostgresStoreURL.parse(try server.newDatabase()) {
                case .success(let url): return try PostgresStore(url)
                case .failure(let e): throw e
                }
            })
    }

    @Test func aStatusStoreKeepsItsWriterWhenOpenedAgain() throws {
        let directory = TargetProcess.temporaryDirectory().path
        let writer = try StatusStore(directory: directory).writer
        #expect(try StatusStore(directory: directory).writer == writer)
    }
}
