import Foundation
import GRDB
import Hummingbird
import NIOCore
import Recurrence

/// `POST /availability`: free periods, slots or busy periods of collections, answered from the
/// instance index (see README, "Availability").
enum AvailabilityEndpoint {
    /// The largest request body read.
    static let maxBodyBytes = 1 << 20

    static func register<Context: RequestContext>(
        on router: Router<Context>, tokens: TokenTable, views: ViewSet, store: TargetStore,
        onUnreadable: @escaping @Sendable (String, String) -> Void
    ) {
        router.post("availability") { request, context -> Response in
            guard let grants = tokens.grants(forAuthorization: request.headers[.authorization]) else {
                return json(
                    .unauthorized,
                    AvailabilityRefusal([
                        AvailabilityProblem(field: "Authorization", message: "a bearer token is required")
                    ]),
                    headers: [.wwwAuthenticate: "Bearer"])
            }
            var request = request
            guard let body = try? await request.collectBody(upTo: maxBodyBytes) else {
                return json(
                    .contentTooLarge,
                    AvailabilityRefusal([
                        AvailabilityProblem(field: "body", message: "the body exceeds \(maxBodyBytes) bytes")
                    ]))
            }
            let query: AvailabilityQuery
            switch AvailabilityRequestReader.read(
                Array(buffer: body), zoneIsKnown: { AvailabilityEndpoint.zone(named: $0) != nil })
            {
            case .failure(let problems):
                context.logger.debug("availability refused", metadata: ["error": "\(problems.all.map(\.description))"])
                return json(.badRequest, AvailabilityRefusal(problems.all))
            case .success(let q): query = q
            }
            // Every member must be granted at freebusy (a view: itself, or each of its
            // collections), or nothing is read (403), before any existence is told.
            let denied = fields(of: query).compactMap { f in
                grants.refusal(.freebusy, f.member, views: views, for: "availability").map {
                    AvailabilityProblem(field: f.field, message: $0)
                }
            }
            if !denied.isEmpty { return json(.forbidden, AvailabilityRefusal(denied)) }
            let queryZone = AvailabilityEndpoint.zone(named: query.zone) ?? .utc
            let found = try await store.db.read { db in
                try AvailabilityEndpoint.busy(db, query, views: views, zone: queryZone, onUnreadable: onUnreadable)
            }
            let (busy, sources): ([String: [BusyPeriod]], [AvailabilitySource])
            switch found {
            case .failure(let missing): return json(.notFound, AvailabilityRefusal(missing.all))
            case .success(let answer): (busy, sources) = answer
            }
            let stale = zip(fields(of: query), sources).filter { $0.1.stale }
            if query.requireFresh, !stale.isEmpty {
                return json(
                    .serviceUnavailable,
                    AvailabilityRefusal(
                        stale.map { AvailabilityProblem(field: $0.0.field, message: $0.1.staleness) },
                        sources: sources))
            }
            return json(.ok, AvailabilityAnswer(AvailabilitySolver(query: query, busy: busy), sources: sources))
        }
    }

    /// Each member with the field it was first named in (`participants[1].members[0]`).
    static func fields(of query: AvailabilityQuery) -> [(field: String, member: String)] {
        var seen = Set<String>()
        var out: [(String, String)] = []
        for (i, g) in query.groups.enumerated() {
            for (j, m) in g.members.enumerated() where seen.insert(m).inserted {
                out.append(("participants[\(i)].members[\(j)]", m))
            }
        }
        return out
    }

    /// Each member's busy periods over the query's window (a view's: the union of its
    /// collections') and its freshness (in member order), in one read; or the members that are
    /// neither collections of this store nor views.
    static func busy(
        _ db: Database, _ query: AvailabilityQuery, views: ViewSet, zone: ZoneRules,
        now: Int64 = Int64(Date().timeIntervalSince1970),
        onUnreadable: (String, String) -> Void
    ) throws -> Result<([String: [BusyPeriod]], [AvailabilitySource]), AvailabilityProblems> {
        let window = query.fetchWindow
        var busy: [String: [BusyPeriod]] = [:]
        var sources: [AvailabilitySource] = []
        var missing: [AvailabilityProblem] = []
        for (field, member) in fields(of: query) {
            let collections: [String]
            if let name = View.name(ofTarget: member) {
                guard let view = views[name] else {
                    missing.append(AvailabilityProblem(field: field, message: "no view \(name) in the views file"))
                    continue
                }
                collections = view.collections
            } else {
                guard try StoreSQL.collectionExists(db, member) else {
                    missing.append(AvailabilityProblem(field: field, message: "no collection \(member)"))
                    continue
                }
                collections = [member]
            }
            busy[member] = try collections.flatMap { c in
                try InstanceIndex.periods(
                    db, collection: c, in: zone, from: window.start, to: window.end, onUnreadable: onUnreadable)
            }
            sources.append(
                AvailabilitySource(
                    member: member, freshness: try collections.compactMap { try Freshness.of(db, collection: $0) },
                    now: now, maxStaleness: query.maxStaleness))
        }
        return missing.isEmpty ? .success((busy, sources)) : .failure(AvailabilityProblems(all: missing))
    }

    /// The zone a name gives (IANA name, alias or Windows name), or nil when no source knows it.
    static func zone(named name: String) -> ZoneRules? {
        let resolver = ZoneResolver(timezones: [], calendarZone: name, options: ExpansionOptions())
        return resolver.floatingFromCalendar ? resolver.floating : nil
    }

    static func json(_ status: HTTPResponse.Status, _ value: some Encodable, headers: HTTPFields = [:]) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var fields = headers
        fields[.contentType] = "application/json"
        let bytes = (try? encoder.encode(value)) ?? Data("{\"error\":\"the answer could not be written\"}".utf8)
        return Response(
            status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes + Data("\n".utf8))))
    }
}
