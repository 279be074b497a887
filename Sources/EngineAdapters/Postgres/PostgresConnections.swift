import Engine
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// A few connections to one PostgreSQL database for a store whose callers are synchronous (the
/// `ItemStateStore` seam, like SQLite's). Each call waits on postgres-nio's event loop, never on
/// the Swift concurrency pool, so a blocked caller cannot starve the connection it waits for.
///
/// A call that fails because the connection or the server went away (a restart, a failover) is
/// run again on a new connection until `reconnectFor` has passed: each transaction the store runs
/// is idempotent (upserts, deletes, and claims that a retry simply makes again), so running one
/// twice after an unanswered COMMIT changes nothing.
final class PostgresConnections: @unchecked Sendable {
    // Unchecked: `idle`, `open` and `nextID` are guarded by `condition`.
    let configuration: PostgresConnection.Configuration
    let limit: Int
    let reconnectFor: TimeInterval
    let logger: Logger
    private let condition = NSCondition()
    private var idle: [PostgresConnection] = []
    private var open = 0
    private var nextID = 0

    init(configuration: PostgresConnection.Configuration, limit: Int = 4, reconnectFor: TimeInterval = 30) {
        var configuration = configuration
        configuration.options.connectTimeout = .seconds(5)
        self.configuration = configuration
        self.limit = limit
        self.reconnectFor = reconnectFor
        var logger = Logger(label: "outboard.postgres")
        logger.logLevel = .critical
        self.logger = logger
    }

    deinit { close() }

    /// Runs `body` in one transaction, again on a new connection while the server is away.
    func transaction<T>(_ body: (Session) throws -> T) throws -> T {
        try retrying {
            try withConnection { c in
                let session = Session(connection: c, logger: logger)
                try session.run("BEGIN")
                do {
                    let result = try body(session)
                    try session.run("COMMIT")
                    return result
                } catch {
                    if !c.isClosed { _ = try? session.run("ROLLBACK") }
                    throw error
                }
            }
        }
    }

    /// Runs one statement (its own transaction).
    @discardableResult
    func query(_ q: PostgresQuery) throws -> PostgresQueryResult {
        try retrying { try withConnection { c in try Session(connection: c, logger: logger).query(q) } }
    }

    /// Closes every idle connection (the store is done).
    func close() {
        let closing = condition.withLock {
            defer { idle = [] }
            open -= idle.count
            return idle
        }
        for c in closing { try? (c.close() as EventLoopFuture<Void>).wait() }
    }

    private func retrying<T>(_ body: () throws -> T) throws -> T {
        let deadline = Date().addingTimeInterval(reconnectFor)
        var delay = 0.05
        while true {
            do { return try body() } catch  where Self.isTransient(error) && Date() < deadline {
                Thread.sleep(forTimeInterval: delay)
                delay = min(delay * 2, 1)
            }
        }
    }

    /// Errors after which the same transaction may succeed on a new connection: the connection
    /// or the server went away, the server is starting or shutting down, or it chose this
    /// transaction as a deadlock's or serialization conflict's victim.
    static func isTransient(_ error: any Error) -> Bool {
        guard let e = error as? PSQLError else {
            return error is ChannelError || error is IOError || error is Unanswered
        }
        switch e.code {
        case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown: return true
        case .server:
            let state = e.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("08") || state.hasPrefix("57") || state == "40001" || state == "40P01"
        default: return false
        }
    }

    private func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let c = try checkout()
        do {
            let result = try body(c)
            checkin(c)
            return result
        } catch {
            checkin(c)
            throw error
        }
    }

    private func checkout() throws -> PostgresConnection {
        let (reused, id): (PostgresConnection?, Int?) = condition.withLock {
            while true {
                while let c = idle.popLast() {
                    if !c.isClosed { return (c, nil) }
                    open -= 1
                }
                if open < limit {
                    open += 1
                    nextID += 1
                    return (nil, nextID)
                }
                condition.wait()
            }
        }
        if let reused { return reused }
        do {
            let loop = PostgresConnection.defaultEventLoopGroup.next()
            let connecting = PostgresConnection.connect(
                on: loop, configuration: configuration, id: id ?? 0, logger: logger)
            // A connection made after the time is closed as soon as it is made.
            return try Self.wait(for: connecting, on: loop, seconds: 10) {
                connecting.whenSuccess { c in c.close().whenComplete { _ in } }
            }
        } catch {
            condition.withLock {
                open -= 1
                condition.signal()
            }
            throw error
        }
    }

    private func checkin(_ c: PostgresConnection) {
        condition.withLock {
            if c.isClosed { open -= 1 } else { idle.append(c) }
            condition.signal()
        }
    }

    /// One connection inside a call: its statements, waited for.
    struct Session {
        let connection: PostgresConnection
        let logger: Logger

        /// Runs a statement; one without an answer in `PostgresConnections.answerWithin` closes
        /// the connection (a server gone without a word) and fails as it would.
        @discardableResult
        func query(_ q: PostgresQuery) throws -> PostgresQueryResult {
            let answer = connection.query(q, logger: logger)
            return try PostgresConnections.wait(for: answer, on: connection.eventLoop, seconds: answerWithin) {
                connection.close().whenComplete { _ in }
            }
        }

        /// Runs SQL without binds: statements separated by semicolons (none inside one), in turn.
        func run(_ sql: String) throws {
            for statement in sql.split(separator: ";") where !statement.allSatisfy(\.isWhitespace) {
                try query(PostgresQuery(unsafeSQL: String(statement)))
            }
        }

        /// Inserts text rows (nil: NULL), as many per statement as its binds allow, each
        /// statement ending with `then` (an ON CONFLICT clause).
        func insert(_ table: String, _ columns: [String], rows: [[String?]], then: String) throws {
            let perStatement = 60_000 / max(1, columns.count)
            for start in stride(from: 0, to: rows.count, by: perStatement) {
                var binds = PostgresBindings()
                var tuples: [String] = []
                for row in rows[start..<min(rows.count, start + perStatement)] {
                    var cells: [String] = []
                    for value in row {
                        try binds.append(value)
                        cells.append("$\(binds.count)")
                    }
                    tuples.append("(" + cells.joined(separator: ", ") + ")")
                }
                let sql =
                    "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES \(tuples.joined(separator: ", ")) \(then)"
                try query(PostgresQuery(unsafeSQL: sql, binds: binds))
            }
        }
    }
}

/// How long a statement may go unanswered: the store's statements touch a few rows or one
/// batch, so one this slow hangs on a connection the server no longer serves.
let answerWithin: Int64 = 20

extension PostgresConnections {
    /// No answer in time: the connection is closed, and the call is made again on a new one.
    struct Unanswered: Error, CustomStringConvertible {
        var seconds: Int64
        var description: String { "no answer from the server in \(seconds) s" }
    }

    /// A future's value, or `Unanswered` (transient) once `seconds` pass
    /// without it, after `timedOut` ran; a thread waiting on an event loop never waits forever.
    static func wait<T: Sendable>(
        for future: EventLoopFuture<T>, on loop: any EventLoop, seconds: Int64,
        timedOut: @escaping @Sendable () -> Void
    ) throws -> T {
        let promise = loop.makePromise(of: T.self)
        future.cascade(to: promise)
        let timer = loop.scheduleTask(in: .seconds(seconds)) {
            timedOut()
            promise.fail(Unanswered(seconds: seconds))
        }
        defer { timer.cancel() }
        return try promise.futureResult.wait()
    }
}

extension PostgresQueryResult {
    /// The rows as an array (a result is a sequence that can be walked once per call).
    var all: [PostgresRow] { Array(self) }
}
