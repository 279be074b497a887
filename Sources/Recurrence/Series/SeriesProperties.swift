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
        // By index, so that only the properties kept are copied.
        let all = component.properties
        for i in all.indices {
            let name = all[i].name
            switch name.utf8.first {
            case UInt8(ascii: "D"):
                switch name {
                case "DTSTART": if dtstart == nil { dtstart = all[i] }
                case "DTEND": if dtend == nil { dtend = all[i] }
                case "DUE": if due == nil { due = all[i] }
                case "DURATION": if duration == nil { duration = all[i] }
                default: break
                }
            case UInt8(ascii: "R"):
                switch name {
                case "RRULE": rrules.append(all[i])
                case "RDATE": rdates.append(all[i])
                case "RECURRENCE-ID": if recurrenceID == nil { recurrenceID = all[i] }
                default: break
                }
            case UInt8(ascii: "E"):
                switch name {
                case "EXDATE": exdates.append(all[i])
                case "EXRULE": hasExrule = true
                default: break
                }
            case UInt8(ascii: "U"): if name == "UID" && uid == nil { uid = all[i] }
            case UInt8(ascii: "S"):
                switch name {
                case "SUMMARY": if summary == nil { summary = all[i] }
                case "STATUS": if status == nil { status = all[i] }
                default: break
                }
            case UInt8(ascii: "T"): if name == "TRANSP" && transp == nil { transp = all[i] }
            default: break
            }
        }
    }
}
