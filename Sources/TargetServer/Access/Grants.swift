/// What a bearer token may reach, and how far: each grant a scope (every collection, a collection
/// and everything below it, or one view) at an access level.
public struct Grants: Sendable, Hashable {
    /// One line item of the tokens file: `*`, `/path` or `views/NAME`, at a level.
    public struct Grant: Sendable, Hashable {
        /// `*` (every collection and view), a collection path, or `views/NAME`.
        public var scope: String
        public var level: AccessLevel

        public init(_ scope: String, _ level: AccessLevel = .write) {
            self.scope = scope
            self.level = level
        }

        /// Whether the grant covers `target` (a collection path or `views/NAME`).
        func covers(_ target: String) -> Bool {
            scope == "*" || scope == target || (scope.hasPrefix("/") && target.hasPrefix(scope + "/"))
        }
    }

    public var grants: [Grant]

    public init(_ grants: [Grant]) {
        self.grants = grants
    }

    /// Read and write on every collection (`all`) or on the collections named.
    public init(all: Bool = false, collections: [String] = []) {
        grants = (all ? [Grant("*")] : []) + collections.map { Grant($0) }
    }

    /// The highest level granted on a collection path or `views/NAME`, or nil when none is.
    public func level(of target: String) -> AccessLevel? {
        grants.filter { $0.covers(target) }.map(\.level).max()
    }

    /// Whether `target` (a collection path or `views/NAME`) is granted at `level` or above. The
    /// one check every endpoint makes: CalWS reads need `.read`, writes `.write`, free/busy
    /// answers (availability, `freebusyReport`, busy feeds) `.freebusy`.
    public func allows(_ level: AccessLevel, _ target: String) -> Bool {
        self.level(of: target).map { $0 >= level } ?? false
    }

    /// Whether a view is granted at `level`: the view itself, or every one of its collections.
    public func allows(_ level: AccessLevel, view: View) -> Bool {
        allows(level, view.target) || view.collections.allSatisfy { allows(level, $0) }
    }

    /// `refusal(level, target, for:)`, where a `views/NAME` target that `views` holds is also
    /// reached through every one of its collections.
    public func refusal(_ level: AccessLevel, _ target: String, views: ViewSet, for what: String) -> String? {
        if let view = View.name(ofTarget: target).flatMap({ views[$0] }), allows(level, view: view) { return nil }
        return refusal(level, target, for: what)
    }

    /// Why `target` is refused at `level` (naming the level that would allow it), or nil when it
    /// is allowed. A target not granted at all is only said to be not granted.
    public func refusal(_ level: AccessLevel, _ target: String, for what: String) -> String? {
        guard let held = self.level(of: target) else { return "this token is not granted \(target)" }
        guard held < level else { return nil }
        let line = level == .write ? target : "\(target):\(level)"
        return
            "this token holds \(target) at level \(held), and \(what) needs level \(level) (\(line) in the tokens file)"
    }
}
