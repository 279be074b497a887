import Foundation

/// What the last pass that read a feed did with one item, for `outboard explain`. A pass records
/// one per item it dropped, compared with the target or wrote; items it left alone (unchanged by
/// their bytes or their hash) get none and are explained from their stored state.
public struct ItemTrace: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable {
        /// A filter rule dropped it: nothing was sent.
        case dropped
        /// Its hash changed, but the target's copy already matched the feed: nothing was sent.
        case matched
        case added, updated, deleted
        /// The target refused the write or did not answer: it is retried next pass.
        case failed
    }

    /// The item's key (its UID).
    public var key: String
    public var outcome: Outcome
    /// The filter rules that changed or dropped it, as `outboard filter` names them.
    public var rules: [String]
    /// The field edits sent, one line each as `outboard diff` prints them (updates only).
    public var edits: [String]
    /// The target's answer: nil when nothing was sent, `ok`, or the refusal in words.
    public var answer: String?

    public init(key: String, outcome: Outcome, rules: [String] = [], edits: [String] = [], answer: String? = nil) {
        self.key = key
        self.outcome = outcome
        self.rules = rules
        self.edits = edits
        self.answer = answer
    }
}

/// The last traced pass of a subscription, as one item sees it: when the pass ran, and what it
/// did with the item (nil: the pass left it alone).
public struct PassTrace: Sendable, Hashable {
    public var pass: Date
    public var item: ItemTrace?

    public init(pass: Date, item: ItemTrace?) {
        self.pass = pass
        self.item = item
    }
}
