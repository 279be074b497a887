import CalendarModel
import SyncCore

/// CalWS-SOAP's response status (`StatusType`; the strings contain spaces).
public enum CalWSStatus: String, Sendable, Hashable, CaseIterable {
    case ok = "OK"
    case notFound = "Not Found"
    case warning = "Warning"
    case noAccess = "No Access"
    case serviceStopped = "Service Stopped"
    case error = "Error"
}

/// The CalWS error elements (`wserrors.xsd`, the `error` substitution group).
public enum CalWSErrorKind: Sendable, Hashable, CustomStringConvertible {
    case forbidden, targetExists, targetDoesNotExist, targetNotEntity, notCalendarData, invalidCalendarData
    case invalidCalendarObjectResource, unsupportedCalendarComponent, invalidCalendarCollectionLocation
    case exceedsMaxResourceSize, beforeMinDateTime, afterMaxDateTime, tooManyInstances, tooManyAttendeesPerInstance
    case partialSuccess, missingChangeToken, mismatchedChangeToken
    /// Outboard's extension (`O:staleWriter`): a write of a pass older than one that has since
    /// read or written the collection (a dead engine's write arriving late); nothing was applied.
    case staleWriter
    case invalidFilter(detail: String)
    case uidConflict(href: String)

    static let simple: [CalWSErrorKind] = [
        .forbidden, .targetExists, .targetDoesNotExist, .targetNotEntity, .notCalendarData, .invalidCalendarData,
        .invalidCalendarObjectResource, .unsupportedCalendarComponent, .invalidCalendarCollectionLocation,
        .exceedsMaxResourceSize, .beforeMinDateTime, .afterMaxDateTime, .tooManyInstances, .tooManyAttendeesPerInstance,
        .partialSuccess, .missingChangeToken, .mismatchedChangeToken, .staleWriter,
    ]

    /// The element's local name.
    public var elementName: String {
        switch self {
        case .forbidden: "forbidden"
        case .targetExists: "targetExists"
        case .targetDoesNotExist: "targetDoesNotExist"
        case .targetNotEntity: "targetNotEntity"
        case .notCalendarData: "notCalendarData"
        case .invalidCalendarData: "invalidCalendarData"
        case .invalidCalendarObjectResource: "invalidCalendarObjectResource"
        case .unsupportedCalendarComponent: "unsupportedCalendarComponent"
        case .invalidCalendarCollectionLocation: "invalidCalendarCollectionLocation"
        case .exceedsMaxResourceSize: "exceedsMaxResourceSize"
        case .beforeMinDateTime: "beforeMinDateTime"
        case .afterMaxDateTime: "afterMaxDateTime"
        case .tooManyInstances: "tooManyInstances"
        case .tooManyAttendeesPerInstance: "tooManyAttendeesPerInstance"
        case .partialSuccess: "partialSuccess"
        case .missingChangeToken: "missingChangeToken"
        case .mismatchedChangeToken: "mismatchedChangeToken"
        case .staleWriter: "staleWriter"
        case .invalidFilter: "invalidFilter"
        case .uidConflict: "uidConflict"
        }
    }

    /// The namespace of the error element: CalWS's, or Outboard's for its extension.
    public var namespace: String { self == .staleWriter ? CalWSNamespace.outboard : CalWSNamespace.uri }

    public var description: String {
        switch self {
        case .invalidFilter(let d): "invalidFilter(\(d))"
        case .uidConflict(let h): "uidConflict(\(h))"
        default: elementName
        }
    }
}

/// The common part of every response (`BaseResponseType`).
public struct CalWSResult: Sendable, Hashable {
    public var status: CalWSStatus
    public var message: String?
    public var error: CalWSErrorKind?

    public init(status: CalWSStatus = .ok, message: String? = nil, error: CalWSErrorKind? = nil) {
        self.status = status
        self.message = message
        self.error = error
    }

    public static let ok = CalWSResult()

    /// A failed result with its error element.
    public static func failure(_ error: CalWSErrorKind, _ message: String, status: CalWSStatus = .error) -> CalWSResult
    {
        CalWSResult(status: status, message: message, error: error)
    }
}

/// What a calendar query asks for.
public enum QueryFilter: Sendable, Hashable {
    /// Every entity of the collection.
    case all
    /// The entity whose UID is exactly this (case-sensitive: `i;octet`).
    case uid(String)
    /// Events that overlap the range (UTC; either end may be open).
    case timeRange(start: ICalDateTime?, end: ICalDateTime?)
}

/// A closed-open range of UTC date-times, `[start, end)`.
public struct UTCRange: Sendable, Hashable {
    public var start: ICalDateTime
    public var end: ICalDateTime

    public init(start: ICalDateTime, end: ICalDateTime) {
        self.start = start
        self.end = end
    }
}

/// `calendarQuery`: list or fetch entities of a collection.
public struct CalendarQuery: Sendable, Hashable {
    public var href: String
    public var filter: QueryFilter
    /// true: whole entities (`allprop`); false: only UID and LAST-MODIFIED of each component.
    public var allData: Bool
    /// `expand` (RFC 4791 §9.6.5): each recurring VEVENT answered as one component per instance
    /// overlapping the range, in UTC, with no RRULE, RDATE, EXDATE or VTIMEZONE.
    public var expand: UTCRange?

    public init(href: String, filter: QueryFilter = .all, allData: Bool = false, expand: UTCRange? = nil) {
        self.href = href
        self.filter = filter
        self.allData = allData
        self.expand = expand
    }
}

/// A request; `id` is echoed on its response (and pairs a `multiOp`'s responses with its requests).
public struct CalWSRequest: Sendable, Hashable {
    public enum Body: Sendable, Hashable {
        case getProperties(href: String)
        case calendarQuery(CalendarQuery)
        case calendarMultiget(href: String, hrefs: [String], allData: Bool)
        /// One VFREEBUSY of a collection (or a view, on `outboard-target`) over the range.
        case freebusyReport(href: String, range: UTCRange)
        case fetchItem(href: String)
        /// `calendar` is one VCALENDAR holding one entity (a master and its overrides, with their zones).
        case addItem(href: String, calendar: ICalComponent)
        case updateItem(href: String, changeToken: String, update: ComponentUpdate)
        case deleteItem(href: String)
        /// Atomic: every operation applies, or none does (multiOp may not nest).
        case multiOp([CalWSRequest])
        /// Outboard's extension: the freshness of the collection a subscription writes.
        case reportFreshness(CollectionFreshness)
    }

    public var id: Int
    public var body: Body
    /// The writer's pass (Outboard's extension: the SOAP header `O:pass`). A target that fences
    /// refuses a write of a pass older than one of the same writer that has since read or written
    /// the collection (`staleWriter`); nil for a client that does not number its passes.
    public var pass: PassStamp?

    public init(id: Int = 0, _ body: Body, pass: PassStamp? = nil) {
        self.id = id
        self.body = body
        self.pass = pass
    }

    /// The operation's element name (`addItem`), also its SOAPAction's last part.
    public var operation: String {
        switch body {
        case .getProperties: "getProperties"
        case .calendarQuery: "calendarQuery"
        case .calendarMultiget: "calendarMultiget"
        case .freebusyReport: "freebusyReport"
        case .fetchItem: "fetchItem"
        case .addItem: "addItem"
        case .updateItem: "updateItem"
        case .deleteItem: "deleteItem"
        case .multiOp: "multiOp"
        case .reportFreshness: "reportFreshness"
        }
    }

    /// The namespace of the operation's element: CalWS-SOAP's, or Outboard's for its extension.
    public var namespace: String {
        if case .reportFreshness = body { return CalWSNamespace.outboard }
        return CalWSNamespace.uri
    }
}

/// One entity in a query's or fetch's answer.
public struct EntityInfo: Sendable, Hashable {
    public var href: String
    public var changeToken: String
    /// The entity as a VCALENDAR (only UID and LAST-MODIFIED per component for a listing).
    public var calendar: ICalComponent?

    public init(href: String, changeToken: String, calendar: ICalComponent? = nil) {
        self.href = href
        self.changeToken = changeToken
        self.calendar = calendar
    }
}

/// What `getProperties` says about a collection (a subset of the spec's list).
public struct CollectionProperties: Sendable, Hashable {
    public var href: String
    public var displayName: String?
    public var resourceType: String
    public var supportedFeatures: [String]
    public var lastModified: ICalDateTime?
    /// `resourceTimezoneId`: the zone the collection's floating times and DATE values are placed
    /// in; nil when it has none.
    public var timezone: String?

    public init(
        href: String, displayName: String? = nil, resourceType: String = "calendarCollection",
        supportedFeatures: [String] = ["calendarAccessFeature"], lastModified: ICalDateTime? = nil,
        timezone: String? = nil
    ) {
        self.href = href
        self.displayName = displayName
        self.resourceType = resourceType
        self.supportedFeatures = supportedFeatures
        self.lastModified = lastModified
        self.timezone = timezone
    }
}

/// A response; `id` echoes the request's.
public struct CalWSResponse: Sendable, Hashable {
    public enum Body: Sendable, Hashable {
        case getProperties(CollectionProperties?)
        /// calendarQuery and calendarMultiget answer alike.
        case calendarQuery([EntityInfo])
        case fetchItem(EntityInfo?)
        /// A VCALENDAR holding one VFREEBUSY.
        case freebusyReport(ICalComponent?)
        case addItem(href: String?, changeToken: String?)
        case updateItem(changeToken: String?)
        case deleteItem
        case multiOp([CalWSResponse])
        case reportFreshness
    }

    public var id: Int
    public var result: CalWSResult
    public var body: Body

    public init(id: Int = 0, result: CalWSResult = .ok, _ body: Body) {
        self.id = id
        self.result = result
        self.body = body
    }

    /// The response element's name (`addItemResponse`).
    public var elementName: String {
        switch body {
        case .getProperties: "getPropertiesResponse"
        case .calendarQuery: "calendarQueryResponse"
        case .fetchItem: "fetchItemResponse"
        case .freebusyReport: "freebusyReportResponse"
        case .addItem: "addItemResponse"
        case .updateItem: "updateItemResponse"
        case .deleteItem: "deleteItemResponse"
        case .multiOp: "multiOpResponse"
        case .reportFreshness: "reportFreshnessResponse"
        }
    }

    /// The namespace of the response's element.
    public var namespace: String {
        if case .reportFreshness = body { return CalWSNamespace.outboard }
        return CalWSNamespace.uri
    }
}
