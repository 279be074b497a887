import Engine
import Foundation
import PostgresNIO

// The cluster's part of the PostgreSQL store: leases with fencing numbers, claims of due
// subscriptions (`FOR UPDATE SKIP LOCKED`), the heartbeat, the engines and their digests.
//
// Lease times are the database's clock (`now()`), so engines whose clocks differ still agree on
// when a lease expired; due times are the engines' (as with SQLite), compared with the `now`
// they pass.

extension PostgresStore {
    /// An engine counts as live while its last heartbeat is younger than its lease time.
    static let live = "e.seen > now() - make_interval(secs => e.lease_seconds)"

    // MARK: The pass lock: a lease

    public func lockPass(_ id: String, wait: Double) async throws(StateStoreError) -> any PassLease {
        let deadline = Date().addingTimeInterval(wait)
        while true {
            // A subscription the schedule claimed for this pass: its lease is already held.
            let claimed: Held? = lock.withLock {
                guard var h = held[id], h.claimed, !h.inPass else { return nil }
                h.inPass = true
                held[id] = h
                return h
            }
            if let claimed { return PostgresLease(store: self, id: id, fence: claimed.fence) }
            let holder: PassHolder?
            do {
                if let fence = try take(id) { return PostgresLease(store: self, id: id, fence: fence) }
                holder = try self.holder(id)
            } catch let e as StateStoreError {
                throw e
            } catch {
                throw .unavailable("the store \(url): \(Self.describe(error))")
            }
            if Date() >= deadline { throw .passRunning(subscription: id, holder: holder) }
            try? await Task.sleep(nanoseconds: 100_000_000)
        }
    }

    /// Takes a free or expired lease for a pass (`outboard sync`, or a pass outside the
    /// schedule): its fencing number, or nil when a live one is held.
    func take(_ id: String) throws -> Int64? {
        if lock.withLock({ held[id] != nil }) { return nil }
        let taken = try transaction { s -> (Int64, String?)? in
            try s.query("INSERT INTO feed (subscription) VALUES (\(id)) ON CONFLICT DO NOTHING")
            return try s.query(
                """
                WITH old AS (
                    SELECT subscription, lease_owner FROM feed
                    WHERE subscription = \(id) AND (lease_owner IS NULL OR lease_expiry < now()) FOR UPDATE)
                UPDATE feed f SET lease_owner = \(engine), lease_expiry = now() + make_interval(secs => \(leaseSeconds)),
                    fence = f.fence + 1
                FROM old WHERE f.subscription = old.subscription
                RETURNING f.fence, old.lease_owner
                """
            ).all.first?.decode((Int64, String?).self)
        }
        guard let (fence, previous) = taken else { return nil }
        lock.withLock { held[id] = Held(fence: fence, claimed: false, inPass: true) }
        if let previous, previous != engine { notify(.tookOver(subscription: id, from: previous)) }
        return fence
    }

    /// Who holds the subscription's lease, for the message a refused pass shows.
    func holder(_ id: String) throws -> PassHolder? {
        if lock.withLock({ held[id] != nil }) { return PassHolder() }
        let row = try query("SELECT lease_owner, lease_expiry FROM feed WHERE subscription = \(id)").first
        guard let (owner, expiry) = try row?.decode((String?, Date?).self), let owner else { return nil }
        let parts = owner.split(separator: ":")
        let pid = parts.count >= 3 ? Int32(parts[parts.count - 2]) ?? 0 : 0
        return PassHolder(
            pid: pid, host: parts.dropLast(2).joined(separator: ":"),
            since: (expiry ?? Date()).addingTimeInterval(-leaseSeconds))
    }

    /// A pass ended: a lease the schedule claimed stays until `release`; one the pass took is
    /// given back.
    func endPass(_ id: String, fence: Int64) {
        let give = lock.withLock { () -> Bool in
            guard var h = held[id], h.fence == fence else { return false }
            if h.claimed {
                h.inPass = false
                held[id] = h
                return false
            }
            held[id] = nil
            return true
        }
        guard give else { return }
        _ = try? query(
            """
            UPDATE feed SET lease_owner = NULL, lease_expiry = NULL
            WHERE subscription = \(id) AND lease_owner = \(engine) AND fence = \(fence)
            """)
    }

    /// Inside a write's transaction: the subscription's lease must still be this engine's under
    /// the fencing number it was taken with (the row stays locked until the write commits, so a
    /// takeover waits for it or it waits for the takeover). A write outside any lease is refused
    /// only while another engine holds a live one.
    func guardLease(_ id: String, _ s: PostgresConnections.Session) throws {
        let mine = lock.withLock { held[id]?.fence }
        let row = try s.query(
            "SELECT lease_owner, fence, lease_expiry < now() FROM feed WHERE subscription = \(id) FOR UPDATE"
        ).all.first
        let (owner, fence, expired) = try row?.decode((String?, Int64, Bool?).self) ?? (nil, Int64(0), nil)
        if let mine {
            if owner == engine, fence == mine { return }
            let holder = owner == engine ? nil : owner
            notify(.fenced(subscription: id, fence: mine, holder: holder))
            throw StateStoreError.fenced(subscription: id, fence: mine, holder: holder)
        }
        if let owner, owner != engine, expired != true {
            throw StateStoreError.passRunning(subscription: id, holder: try? holder(id))
        }
    }

    func notify(_ event: ClusterEvent) {
        lock.withLock { observer }?(event)
    }

    public func observe(_ handler: @escaping @Sendable (ClusterEvent) -> Void) {
        lock.withLock { observer = handler }
    }

    // MARK: The schedule

    public func claim(limit: Int, now: Date) throws -> [Claim] {
        guard limit > 0 else { return [] }
        let claims = try transaction { s in
            try s.query(
                """
                WITH due AS (
                    SELECT f.subscription, f.lease_owner, f.next_due FROM feed f
                    JOIN engine_config c ON c.subscription = f.subscription AND c.engine = \(engine)
                    WHERE f.retired IS NULL AND (f.next_due IS NULL OR f.next_due <= \(now))
                        AND (f.lease_owner IS NULL OR f.lease_expiry < now())
                        AND NOT EXISTS (
                            SELECT 1 FROM engine_config o JOIN engine e ON e.name = o.engine
                            WHERE o.subscription = f.subscription AND o.engine <> c.engine AND o.digest <> c.digest
                                AND \(unescaped: Self.live))
                    ORDER BY f.next_due NULLS FIRST, f.subscription LIMIT \(limit)
                    FOR UPDATE OF f SKIP LOCKED)
                UPDATE feed f SET lease_owner = \(engine), lease_expiry = now() + make_interval(secs => \(leaseSeconds)),
                    fence = f.fence + 1
                FROM due WHERE f.subscription = due.subscription
                RETURNING f.subscription, f.fence, due.next_due, due.lease_owner
                """
            ).all.map { row in
                let (id, fence, due, previous) = try row.decode((String, Int64, Date?, String?).self)
                return Claim(id: id, fence: fence, due: due, takenFrom: previous == engine ? nil : previous)
            }
        }
        lock.withLock {
            for c in claims { held[c.id] = Held(fence: c.fence, claimed: true, inPass: false) }
        }
        for c in claims { if let from = c.takenFrom { notify(.tookOver(subscription: c.id, from: from)) } }
        return claims
    }

    @discardableResult
    public func release(_ id: String, nextDue: Date) throws -> Bool {
        guard let fence = lock.withLock({ held.removeValue(forKey: id)?.fence }) else { return false }
        return try !query(
            """
            UPDATE feed SET lease_owner = NULL, lease_expiry = NULL, rerun = false,
                next_due = CASE WHEN rerun THEN least(\(nextDue), \(Date())) ELSE \(nextDue) END
            WHERE subscription = \(id) AND lease_owner = \(engine) AND fence = \(fence)
            RETURNING 1
            """
        ).isEmpty
    }

    public func trigger(_ id: String, now: Date) throws -> TriggerOutcome? {
        let row = try query(
            """
            UPDATE feed SET rerun = (lease_owner IS NOT NULL AND lease_expiry > now()),
                next_due = CASE WHEN lease_owner IS NOT NULL AND lease_expiry > now() THEN next_due
                    ELSE least(coalesce(next_due, \(now)), \(now)) END
            WHERE subscription = \(id) AND retired IS NULL AND EXISTS (
                SELECT 1 FROM engine_config c JOIN engine e ON e.name = c.engine
                WHERE c.subscription = \(id) AND \(unescaped: Self.live))
            RETURNING rerun
            """
        ).first
        guard let rerun = try row?.decode(Bool.self) else { return nil }
        return rerun ? .afterRunningPass : .queued
    }

    // MARK: Engines and their configuration

    public func join(_ digests: [String: String], now: Date) throws -> [String: String] {
        let ids = Array(digests.keys)
        let process = ProcessInfo.processInfo
        try transaction { s in
            try s.query(
                """
                INSERT INTO engine (name, host, pid, started, seen, lease_seconds)
                VALUES (\(engine), \(process.hostName), \(Int(process.processIdentifier)), now(), now(), \(leaseSeconds))
                ON CONFLICT (name) DO UPDATE SET seen = now(), lease_seconds = excluded.lease_seconds
                """)
            try s.query("DELETE FROM engine_config WHERE engine = \(engine)")
            try s.query(
                """
                INSERT INTO engine_config (engine, subscription, digest)
                SELECT \(engine), * FROM unnest(\(ids), \(ids.map { digests[$0] ?? "" }))
                """)
            try s.query("INSERT INTO feed (subscription) SELECT unnest(\(ids)) ON CONFLICT DO NOTHING")
            try s.query("UPDATE feed SET retired = NULL WHERE retired IS NOT NULL AND subscription = ANY(\(ids))")
            // Engines gone for ten lease times are forgotten, with their configuration.
            try s.query(
                """
                DELETE FROM engine_config WHERE engine IN (
                    SELECT name FROM engine WHERE seen < now() - make_interval(secs => 10 * lease_seconds))
                """)
            try s.query("DELETE FROM engine WHERE seen < now() - make_interval(secs => 10 * lease_seconds)")
            try retire(s)
        }
        lock.withLock {
            joined = true
            lastDigests = digests
        }
        return try conflicts()
    }

    /// Retires the subscriptions no live engine defines (kept with their items, not scheduled).
    func retire(_ s: PostgresConnections.Session) throws {
        try s.query(
            """
            UPDATE feed f SET retired = now()
            WHERE retired IS NULL AND (lease_owner IS NULL OR lease_expiry < now()) AND NOT EXISTS (
                SELECT 1 FROM engine_config c JOIN engine e ON e.name = c.engine
                WHERE c.subscription = f.subscription AND \(unescaped: Self.live))
            """)
    }

    public func conflicts() throws -> [String: String] {
        var out: [String: String] = [:]
        for row in try query(
            """
            SELECT c.subscription, min(o.engine) FROM engine_config c
            JOIN engine_config o ON o.subscription = c.subscription AND o.engine <> c.engine AND o.digest <> c.digest
            JOIN engine e ON e.name = o.engine AND \(unescaped: Self.live)
            WHERE c.engine = \(engine) GROUP BY c.subscription
            """)
        {
            let (id, other) = try row.decode((String, String).self)
            out[id] = other
        }
        return out
    }

    public func cluster() throws -> ClusterView {
        try transaction { s in
            let engines = try s.query(
                "SELECT name, started, seen FROM engine e WHERE \(unescaped: Self.live) ORDER BY name"
            ).all.map { row in
                let (name, started, seen) = try row.decode((String, Date, Date).self)
                return ClusterView.Engine(name: name, started: started, seen: seen)
            }
            var leases: [String: ClusterView.Lease] = [:]
            for row in try s.query(
                "SELECT subscription, lease_owner, lease_expiry, fence FROM feed WHERE lease_owner IS NOT NULL AND lease_expiry > now()"
            ).all {
                let (id, owner, expiry, fence) = try row.decode((String, String, Date, Int64).self)
                leases[id] = ClusterView.Lease(engine: owner, expires: expiry, fence: fence)
            }
            var retired: [String: Date] = [:]
            for row in try s.query("SELECT subscription, retired FROM feed WHERE retired IS NOT NULL").all {
                let (id, when) = try row.decode((String, Date).self)
                retired[id] = when
            }
            let disagreeing = try s.query(
                """
                SELECT DISTINCT a.subscription FROM engine_config a
                JOIN engine_config b ON b.subscription = a.subscription AND a.engine < b.engine AND a.digest <> b.digest
                JOIN engine e ON e.name = a.engine AND \(unescaped: Self.live)
                JOIN engine e2 ON e2.name = b.engine AND e2.seen > now() - make_interval(secs => e2.lease_seconds)
                ORDER BY a.subscription
                """
            ).all.map { try $0.decode(String.self) }
            return ClusterView(engines: engines, leases: leases, retired: retired, disagreeing: disagreeing)
        }
    }

    public func leave() throws {
        lock.withLock {
            held = [:]
            joined = false
        }
        try transaction { s in
            try s.query("UPDATE feed SET lease_owner = NULL, lease_expiry = NULL WHERE lease_owner = \(engine)")
            try s.query("DELETE FROM engine_config WHERE engine = \(engine)")
            try s.query("DELETE FROM engine WHERE name = \(engine)")
        }
    }

    // MARK: The heartbeat

    /// Renews the engine's registration and every lease it holds, every third of the lease time,
    /// on a thread of its own (a busy pass does not delay it); a lease found taken over is
    /// reported. An engine whose registration was forgotten (it was stopped for ten lease times)
    /// joins again with the digests it last gave.
    func startHeartbeat() {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "outboard.postgres.heartbeat"))
        timer.schedule(deadline: .now() + leaseSeconds / 3, repeating: leaseSeconds / 3)
        timer.setEventHandler { [weak self] in self?.heartbeat() }
        timer.resume()
        lock.withLock { heartbeatTimer = timer }
    }

    func heartbeat() {
        let (fences, joined, digests): ([String: Int64], Bool, [String: String]) = lock.withLock {
            (held.mapValues(\.fence), self.joined, lastDigests)
        }
        let ids = Array(fences.keys)
        do {
            if joined {
                let known = try !query("UPDATE engine SET seen = now() WHERE name = \(engine) RETURNING 1").isEmpty
                if !known { _ = try join(digests, now: Date()) }
                try transaction { try retire($0) }
            }
            guard !ids.isEmpty else { return }
            let renewed = Set(
                try query(
                    """
                    UPDATE feed SET lease_expiry = now() + make_interval(secs => \(leaseSeconds))
                    WHERE lease_owner = \(engine) AND subscription = ANY(\(ids)) RETURNING subscription
                    """
                ).map { try $0.decode(String.self) })
            // A lease given back meanwhile (its pass ended) was not renewed, and is not lost.
            let lost = lock.withLock { ids.filter { !renewed.contains($0) && held[$0]?.fence == fences[$0] } }
            for id in lost { notify(.lost(subscription: id)) }
        } catch {
            // The next beat tries again; a lease that expires meanwhile is fenced, never shared.
        }
    }
}

/// A pass's hold on its subscription's lease.
final class PostgresLease: PassLease {
    let store: PostgresStore
    let id: String
    let fence: Int64

    init(store: PostgresStore, id: String, fence: Int64) {
        self.store = store
        self.id = id
        self.fence = fence
    }

    func release() { store.endPass(id, fence: fence) }
}
