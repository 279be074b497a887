import Engine
import Foundation
import PostgresNIO

/// A PostgreSQL store's address: `postgres://USER@HOST:PORT/DATABASE`, with the password never
/// in the URL but named by `password-env=VARIABLE` or `password-file=PATH`, and `host=/DIR` for a
/// Unix socket directory (as libpq's). `lease=SECONDS` sets how long an engine's leases last
/// without renewal (default 30).
public struct PostgresStoreURL: Sendable, CustomStringConvertible {
    public var user: String
    public var host: String
    public var port: Int
    public var database: String
    public var socketDirectory: String?
    public var password: Secret?
    public var leaseSeconds: Double = 30

    /// Where the password comes from.
    public enum Secret: Sendable, Hashable {
        case environment(String)
        case file(String)
    }

    /// The URL with its parts, or what is wrong with it.
    public static func parse(_ s: String) -> Result<PostgresStoreURL, StoreURLError> {
        // The URL in an error loses its user information and query: they may hold a secret.
        func bad(_ why: String) -> Result<PostgresStoreURL, StoreURLError> {
            .failure(StoreURLError(url: Redact.url(s), why: why))
        }
        guard let c = URLComponents(string: s), c.scheme == "postgres" || c.scheme == "postgresql" else {
            return bad("a PostgreSQL store is postgres://USER@HOST:PORT/DATABASE")
        }
        if c.password != nil {
            return bad(
                "the password may not be in the URL (it would be logged and kept in shell history): name it with ?password-env=VARIABLE or ?password-file=PATH"
            )
        }
        let database = String(c.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            return bad("name the database: postgres://USER@HOST/DATABASE")
        }
        var url = PostgresStoreURL(
            user: c.user ?? "outboard", host: c.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1",
            port: c.port ?? 5432, database: database)
        for item in c.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "password-env" where !value.isEmpty: url.password = .environment(value)
            case "password-file" where !value.isEmpty: url.password = .file(value)
            case "host" where value.hasPrefix("/"): url.socketDirectory = value
            case "lease":
                guard let seconds = Double(value), (2...3600).contains(seconds) else {
                    return bad("lease=\(value) is not a number of seconds from 2 to 3600")
                }
                url.leaseSeconds = seconds
            default:
                return bad(
                    "\(item.name)=\(value) is not a setting Outboard knows (password-env, password-file, host=/socket/dir, lease)"
                )
            }
        }
        return .success(url)
    }

    /// The URL as logs may show it (it holds no secret).
    public var description: String {
        "postgres://\(user)@\(socketDirectory ?? "\(host):\(port)")/\(database)"
    }

    /// The connection's configuration, the password read; the error names where it was looked for.
    func configuration(environment: [String: String] = ProcessInfo.processInfo.environment) throws(StoreURLError)
        -> PostgresConnection.Configuration
    {
        var secret: String?
        switch password {
        case .environment(let name)?:
            guard let v = environment[name], !v.isEmpty else {
                throw StoreURLError(url: description, why: "the password variable \(name) is not set")
            }
            secret = v
        case .file(let path)?:
            guard let data = FileManager.default.contents(atPath: path) else {
                throw StoreURLError(url: description, why: "the password file \(path) cannot be read")
            }
            secret = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        case nil: secret = nil
        }
        if let socketDirectory {
            return PostgresConnection.Configuration(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: user, password: secret,
                database: database)
        }
        return PostgresConnection.Configuration(
            host: host, port: port, username: user, password: secret, database: database, tls: .disable)
    }
}
