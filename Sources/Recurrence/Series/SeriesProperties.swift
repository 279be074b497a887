import CalendarModel

/// The properties of a master or override that its series reads, found in one pass over the
/// component's properties (the first of each, every RRULE, RDATE and EXDATE).
///
/// A feed's events carry many properties a series never reads (DESCRIPTION, ATTENDEE, X-…): one
/// pass that looks at each name's first letter costs a fraction of a search by name for each
/// property the series needs. The pass notes positions, so that nothing is copied until it is read.
struct SeriesProperties {
    private let all: [ICalProperty]
    private var positions = Positions()

    private struct Positions {
        var uid, recurrenceID, dtstart, dtend, due, duration, summary, status, transp: Int?
        var rrules: [Int] = []
        var rdates: [Int] = []
        var exdates: [Int] = []
        var exrules: [Int] = []
    }

    var uid: ICalProperty? { positions.uid.map { all[$0] } }
    var recurrenceID: ICalProperty? { positions.recurrenceID.map { all[$0] } }
    var dtstart: ICalProperty? { positions.dtstart.map { all[$0] } }
    var dtend: ICalProperty? { positions.dtend.map { all[$0] } }
    var due: ICalProperty? { positions.due.map { all[$0] } }
    var duration: ICalProperty? { positions.duration.map { all[$0] } }
    var summary: ICalProperty? { positions.summary.map { all[$0] } }
    var status: ICalProperty? { positions.status.map { all[$0] } }
    var transp: ICalProperty? { positions.transp.map { all[$0] } }
    var rrules: [ICalProperty] { positions.rrules.map { all[$0] } }
    var rdates: [ICalProperty] { positions.rdates.map { all[$0] } }
    var exdates: [ICalProperty] { positions.exdates.map { all[$0] } }
    /// EXRULEs (RFC 2445; RFC 5545 removed them, older Outlook and Lotus exports still write them).
    var exrules: [ICalProperty] { positions.exrules.map { all[$0] } }
    var isOverride: Bool { positions.recurrenceID != nil }
    /// Whether the component has an RRULE or an RDATE.
    var isRecurring: Bool { !positions.rrules.isEmpty || !positions.rdates.isEmpty }

    init(_ component: ICalComponent) {
        all = component.properties
        for i in all.indices {
            let name = all[i].name
            switch name.utf8.first {
            case UInt8(ascii: "D"):
                switch name {
                case "DTSTART": positions.dtstart = positions.dtstart ?? i
                case "DTEND": positions.dtend = positions.dtend ?? i
                case "DUE": positions.due = positions.due ?? i
                case "DURATION": positions.duration = positions.duration ?? i
                default: break
                }
            case UInt8(ascii: "R"):
                switch name {
                case "RRULE": positions.rrules.append(i)
                case "RDATE": positions.rdates.append(i)
                case "RECURRENCE-ID": positions.recurrenceID = positions.recurrenceID ?? i
                default: break
                }
            case UInt8(ascii: "E"):
                switch name {
                case "EXDATE": positions.exdates.append(i)
                case "EXRULE": positions.exrules.append(i)
                default: break
                }
            case UInt8(ascii: "U"): if name == "UID" { positions.uid = positions.uid ?? i }
            case UInt8(ascii: "S"):
                switch name {
                case "SUMMARY": positions.summary = positions.summary ?? i
                case "STATUS": positions.status = positions.status ?? i
                default: break
                }
            case UInt8(ascii: "T"): if name == "TRANSP" { positions.transp = positions.transp ?? i }
            default: break
            }
        }
    }
}
