import CalendarModel

// What the engine tells a target beside its writes: the collection's freshness after each pass,
// and the pass a request belongs to (its fence). CalWS-SOAP carries both as Outboard's extension
// (PROTOCOL.md); another target kind carries them its own way, or declares it cannot
// (`TargetCapabilities`).

/// What a subscription tells the target about the collection it writes, after every pass (a 304
/// included): so that the target can say how fresh its mirror is.
public struct CollectionFreshness: Sendable, Hashable {
    /// The collection the subscription writes.
    public var href: String
    public var subscription: String
    /// Seconds between the subscription's passes.
    public var refreshInterval: Int
    /// The last pass that completed (a 304 included), UTC.
    public var lastSuccess: ICalDateTime?
    /// The last pass that ran, UTC.
    public var lastAttempt: ICalDateTime?
    /// What went wrong in the last pass, if it failed.
    public var lastError: String?
    /// The collection's zone (`resourceTimezoneId`): where its floating times and DATE values
    /// are placed, the subscription's `zone` or else its feed's X-WR-TIMEZONE; nil for none
    /// (they are then placed in the zone of each query).
    public var timezone: String?

    public init(
        href: String, subscription: String, refreshInterval: Int, lastSuccess: ICalDateTime? = nil,
        lastAttempt: ICalDateTime? = nil, lastError: String? = nil, timezone: String? = nil
    ) {
        self.href = href
        self.subscription = subscription
        self.refreshInterval = refreshInterval
        self.lastSuccess = lastSuccess
        self.lastAttempt = lastAttempt
        self.lastError = lastError
        self.timezone = timezone
    }
}

/// A pass of a writer (Outboard's extension, `O:pass`): `writer` names the status store whose
/// passes are numbered (made once with the store), `number` counts its passes of one subscription.
public struct PassStamp: Sendable, Hashable {
    public var writer: String
    public var number: Int

    public init(writer: String, number: Int) {
        self.writer = writer
        self.number = number
    }
}
