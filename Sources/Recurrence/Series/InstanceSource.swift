import CalendarModel

/// What the instances that come from one component (a master, or an override) share: the
/// component and the properties an instance reports. One per component, shared by reference.
public final class InstanceSource: Sendable {
    /// The master or override component the instances come from.
    public let component: ICalComponent
    public let uid: String?
    /// VEVENT, VTODO or VJOURNAL.
    public let componentName: String
    public let summary: String?
    /// STATUS, uppercased (TENTATIVE, CONFIRMED, CANCELLED, NEEDS-ACTION, …), if present.
    public let status: String?
    /// TRANSP, uppercased (OPAQUE or TRANSPARENT), if present.
    public let transp: String?
    /// True for a component with RRULE or RDATE (its instances carry a RECURRENCE-ID).
    public let isRecurring: Bool
    /// How the component writes its start (and its instances' ends).
    public let form: TimeForm
    /// How the RECURRENCE-IDs of its instances are written: in the master's form (an override's
    /// own RECURRENCE-ID may be written in another zone than its DTSTART).
    public let recurrenceForm: TimeForm

    init(component: ICalComponent, properties: SeriesProperties, form: TimeForm, recurrenceForm: TimeForm) {
        self.component = component
        uid = properties.uid?.text
        componentName = component.name
        summary = properties.summary?.text
        status = properties.status?.text?.uppercasedIfNeeded
        transp = properties.transp?.text?.uppercasedIfNeeded
        isRecurring = properties.isRecurring
        self.form = form
        self.recurrenceForm = recurrenceForm
    }

    /// The same component's properties for instances whose RECURRENCE-IDs are written in
    /// another form: the master's instances that a THISANDFUTURE override reshaped.
    init(_ other: InstanceSource, recurrenceForm: TimeForm) {
        component = other.component
        uid = other.uid
        componentName = other.componentName
        summary = other.summary
        status = other.status
        transp = other.transp
        isRecurring = other.isRecurring
        form = other.form
        self.recurrenceForm = recurrenceForm
    }
}
