import CalendarModel

/// One write a plan holds.
public enum PlannedWrite: Sendable {
    case add(key: String, calendar: ICalComponent, hash: String)
    case update(key: String, href: String, token: String, update: ComponentUpdate, source: ICalItem, hash: String)
    case delete(key: String, href: String, token: String)
    /// The target already matches: only the status is recorded.
    case settle(ItemState)

    public var key: String {
        switch self {
        case .add(let k, _, _), .update(let k, _, _, _, _, _), .delete(let k, _, _): k
        case .settle(let s): s.key
        }
    }

    /// True for what changes the target (everything but a settle).
    public var writes: Bool {
        if case .settle = self { return false }
        return true
    }

    /// The readable lines of a dry run.
    public var lines: [String] {
        switch self {
        case .add(let key, let calendar, _):
            // A content key means nothing to a person: the UID goes first.
            if ItemIdentity.content.made(key), let uid = calendar.components.first(where: { $0.uid != nil })?.uid {
                ["+ add \(uid) (\(key))"]
            } else {
                ["+ add \(key)"]
            }
        case .update(_, _, _, let update, _, _): ChangeSetPrinter.lines(update)
        case .delete(let key, _, _): ["- delete \(key)"]
        case .settle: []
        }
    }
}
