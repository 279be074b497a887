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
    /// How the component writes its start.
    let form: TimeForm

    init(component: ICalComponent, form: TimeForm) {
        self.component = component
        uid = component.uid
        componentName = component.name
        summary = component.property("SUMMARY")?.text
        status = component.property("STATUS")?.text?.uppercased()
        transp = component.property("TRANSP")?.text?.uppercased()
        isRecurring = component.property("RRULE") != nil || component.property("RDATE") != nil
        self.form = form
    }
}
