import CalendarModel

/// The properties of a master or override that its series reads, found in one pass over the
/// component's properties (the first of each, every RRULE, RDATE and EXDATE).
///
/// A feed's events carry many properties a series never reads (DESCRIPTION, ATTENDEE, X-…): one
/// pass that looks at each name's first letter costs a fraction of a search by name for each
/// property the series needs.
struct SeriesProperties {
    var uid: ICalProperty?
    var recurrenceID: ICalProperty?
    var dtstart: ICalProperty?
    var dtend: ICalProperty?
    var due: ICalProperty?
    var duration: ICalProperty?
    var summary: ICalProperty?
    var status: ICalProperty?
    var transp: ICalProperty?
    var rrules: [ICalProperty] = []
    var rdates: [ICalProperty] = []
    var exdates: [ICalProperty] = []
    var hasExrule = false

    init(_ component: ICalComponent) {
        for p in component.properties {
            switch p.name.utf8.first {
            case UInt8(ascii: "D"):
                switch p.name {
                case "DTSTART": if dtstart == nil { dtstart = p }
                case "DTEND": if dtend == nil { dtend = p }
                case "DUE": if due == nil { due = p }
                case "DURATION": if duration == nil { duration = p }
                default: break
                }
            case UInt8(ascii: "R"):
                switch p.name {
                case "RRULE": rrules.append(p)
                case "RDATE": rdates.append(p)
                case "RECURRENCE-ID": if recurrenceID == nil { recurrenceID = p }
                default: break
                }
            case UInt8(ascii: "E"):
                switch p.name {
                case "EXDATE": exdates.append(p)
                case "EXRULE": hasExrule = true
                default: break
                }
            case UInt8(ascii: "U"): if p.name == "UID" && uid == nil { uid = p }
            case UInt8(ascii: "S"):
                switch p.name {
                case "SUMMARY": if summary == nil { summary = p }
                case "STATUS": if status == nil { status = p }
                default: break
                }
            case UInt8(ascii: "T"): if p.name == "TRANSP" && transp == nil { transp = p }
            default: break
            }
        }
    }
}
