/// What a contract suite checks a requirement against: the implementation under test, as a
/// fixture gives it, with whatever the fixture started.
public protocol ContractSubject: Sendable {
    /// Ends what the fixture started (a server, a temporary directory).
    var stop: @Sendable () -> Void { get }
}

/// One requirement of a contract suite (`FeedContract`, `TargetContract`, `StoreContract`):
/// a test of an implementation runs each against it, and a requirement not met throws a
/// `ContractViolation` saying what the implementation did.
public struct ContractRequirement<Subject: ContractSubject>: Sendable, CustomStringConvertible {
    public var description: String
    let body: @Sendable (Subject) async throws -> Void

    init(_ description: String, _ body: @escaping @Sendable (Subject) async throws -> Void) {
        self.description = description
        self.body = body
    }

    /// Runs the requirement against `subject`, then stops it.
    public func check(_ subject: Subject) async throws {
        defer { subject.stop() }
        try await body(subject)
    }
}

/// A requirement of a contract suite that an implementation does not meet.
public struct ContractViolation: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Throws `what` as a violation unless `condition` holds.
func expect(_ condition: Bool, _ what: String) throws {
    if !condition { throw ContractViolation(what) }
}
