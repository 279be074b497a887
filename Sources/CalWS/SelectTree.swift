import CalendarModel
import SafeXML
import SyncCore
import XCal

/// CalWS-SOAP's namespace (the final one, not Bedework's older `ns/wscal/calws-soap`).
public enum CalWSNamespace {
    public static let uri = "http://docs.oasis-open.org/ws-calendar/ns/soap"
    /// Outboard's extensions of CalWS-SOAP (`reportFreshness`), written with the prefix `O:`.
    public static let outboard = "urn:x-outboard:calws:1"
    /// The prefixes Outboard writes: `C:` for CalWS, the default namespace for xCal.
    public static let prefixes = [uri: "C", XCalWriter.namespace: ""]
}

/// Why a selection tree could not be read: the same error as any unreadable CalWS message.
public typealias SelectTreeError = CalWSDecodeError

/// The `updateItem` selection tree (standards.md §2.4) to and from `ComponentUpdate`:
///
///     <C:select>
///       <vcalendar/>                       the component this level selects (an xCal skeleton)
///       <C:properties>
///         <C:property> <summary><text>Old</text></summary>
///                      <C:parameters> <C:parameter> … <C:change> … </C:change> </C:parameter>
///                                     <C:remove> … </C:remove> <C:add> … </C:add> </C:parameters>
///                      <C:change> <summary><text>New</text></summary> </C:change> </C:property>
///         <C:remove> <location><text>Hall</text></location> </C:remove>
///         <C:add> <categories><text>Sport</text></categories> </C:add>
///       </C:properties>
///       <C:components>
///         <C:component> <vevent> (UID, RECURRENCE-ID) </vevent> <C:properties>…</C:properties> </C:component>
///         <C:remove> <vevent> (UID, RECURRENCE-ID) </vevent> </C:remove>
///         <C:add> <vevent> (the whole component) </vevent> </C:add>
///       </C:components>
///     </C:select>
public enum SelectTree {
    static let ns = CalWSNamespace.uri

    /// The `select` element of an update.
    public static func element(_ u: ComponentUpdate, name: String = "select") -> XMLElement {
        var e = XMLElement(name, namespace: ns)
        e.append(XCalWriter.element(for: ICalComponent(name: u.selector.name, properties: u.selector.properties)))
        if !u.properties.isEmpty {
            var props = XMLElement("properties", namespace: ns)
            for ch in u.properties.changes {
                var p = XMLElement("property", namespace: ns)
                p.append(XCalWriter.element(for: ch.current))
                if !ch.parameters.isEmpty { p.append(parametersElement(ch.parameters)) }
                if let v = ch.newValues {
                    p.append(
                        XMLElement(
                            "change", namespace: ns,
                            children: [
                                .element(XCalWriter.element(for: ICalProperty(name: ch.current.name, values: v)))
                            ]))
                }
                props.append(p)
            }
            for r in u.properties.removes { props.append(wrap("remove", XCalWriter.element(for: r))) }
            for a in u.properties.adds { props.append(wrap("add", XCalWriter.element(for: a))) }
            e.append(props)
        }
        if !u.components.isEmpty {
            var comps = XMLElement("components", namespace: ns)
            for sub in u.components.updates { comps.append(element(sub, name: "component")) }
            for r in u.components.removes {
                comps.append(
                    wrap("remove", XCalWriter.element(for: ICalComponent(name: r.name, properties: r.properties))))
            }
            for a in u.components.adds { comps.append(wrap("add", XCalWriter.element(for: a))) }
            e.append(comps)
        }
        return e
    }

    static func parametersElement(_ u: ParameterUpdates) -> XMLElement {
        var e = XMLElement("parameters", namespace: ns)
        for ch in u.changes {
            e.append(
                XMLElement(
                    "parameter", namespace: ns,
                    children: [
                        .element(XCalWriter.element(for: ch.current)),
                        .element(wrap("change", XCalWriter.element(for: ch.new))),
                    ]))
        }
        for r in u.removes { e.append(wrap("remove", XCalWriter.element(for: r))) }
        for a in u.adds { e.append(wrap("add", XCalWriter.element(for: a))) }
        return e
    }

    private static func wrap(_ name: String, _ child: XMLElement) -> XMLElement {
        XMLElement(name, namespace: ns, children: [.element(child)])
    }

    // MARK: Reading

    /// The update a `select` (or `component`) element describes.
    public static func update(from e: XMLElement) throws(SelectTreeError) -> ComponentUpdate {
        var diagnostics: [ICalDiagnostic] = []
        let xcal = e.elements.filter { $0.namespace == XCalWriter.namespace }
        guard xcal.count == 1 else {
            throw fail(e, "<\(e.name)> needs exactly one xCal component naming what it selects")
        }
        let skeleton = XCalReader.component(xcal[0], &diagnostics)
        var u = ComponentUpdate(selector: ComponentSelector(name: skeleton.name, properties: skeleton.properties))
        for child in e.elements where child.namespace == ns {
            switch child.name {
            case "properties": u.properties = try properties(child, &diagnostics)
            case "components": u.components = try components(child, &diagnostics)
            default: throw fail(child, "unexpected <\(child.name)> in <\(e.name)>")
            }
        }
        if let d = diagnostics.first { throw SelectTreeError(line: d.line, message: d.message) }
        return u
    }

    static func properties(_ e: XMLElement, _ diagnostics: inout [ICalDiagnostic]) throws(SelectTreeError)
        -> PropertyUpdates
    {
        var u = PropertyUpdates()
        for child in e.elements {
            switch child.name {
            case "property":
                let xcal = child.elements.filter { $0.namespace == XCalWriter.namespace }
                guard xcal.count == 1 else {
                    throw fail(child, "<property> needs exactly one xCal property with its current value")
                }
                var ch = PropertyChange(current: XCalReader.property(xcal[0], &diagnostics))
                for part in child.elements where part.namespace == ns {
                    switch part.name {
                    case "parameters": ch.parameters = try parameters(part)
                    case "change": ch.newValues = try single(part).map { XCalReader.property($0, &diagnostics).values }
                    default: throw fail(part, "unexpected <\(part.name)> in <property>")
                    }
                }
                u.changes.append(ch)
            case "remove": if let p = try single(child) { u.removes.append(XCalReader.property(p, &diagnostics)) }
            case "add": if let p = try single(child) { u.adds.append(XCalReader.property(p, &diagnostics)) }
            default: throw fail(child, "unexpected <\(child.name)> in <properties>")
            }
        }
        return u
    }

    static func parameters(_ e: XMLElement) throws(SelectTreeError) -> ParameterUpdates {
        var u = ParameterUpdates()
        for child in e.elements {
            switch child.name {
            case "parameter":
                let xcal = child.elements.filter { $0.namespace == XCalWriter.namespace }
                guard xcal.count == 1, let change = child.child("change", namespace: ns), let new = try single(change)
                else {
                    throw fail(child, "<parameter> needs the current xCal parameter and a <change> holding the new one")
                }
                u.changes.append(
                    ParameterChange(current: XCalReader.parameter(xcal[0]), new: XCalReader.parameter(new)))
            case "remove": if let p = try single(child) { u.removes.append(XCalReader.parameter(p)) }
            case "add": if let p = try single(child) { u.adds.append(XCalReader.parameter(p)) }
            default: throw fail(child, "unexpected <\(child.name)> in <parameters>")
            }
        }
        return u
    }

    static func components(_ e: XMLElement, _ diagnostics: inout [ICalDiagnostic]) throws(SelectTreeError)
        -> ComponentUpdates
    {
        var u = ComponentUpdates()
        for child in e.elements {
            switch child.name {
            case "component": u.updates.append(try update(from: child))
            case "remove":
                if let c = try single(child) {
                    let skeleton = XCalReader.component(c, &diagnostics)
                    u.removes.append(ComponentSelector(name: skeleton.name, properties: skeleton.properties))
                }
            case "add": if let c = try single(child) { u.adds.append(XCalReader.component(c, &diagnostics)) }
            default: throw fail(child, "unexpected <\(child.name)> in <components>")
            }
        }
        return u
    }

    /// The one xCal element inside `e`.
    static func single(_ e: XMLElement) throws(SelectTreeError) -> XMLElement? {
        let xcal = e.elements.filter { $0.namespace == XCalWriter.namespace }
        guard xcal.count == 1 else { throw fail(e, "<\(e.name)> needs exactly one xCal element") }
        return xcal[0]
    }

    static func fail(_ e: XMLElement, _ message: String) -> SelectTreeError {
        SelectTreeError(line: e.line, message: message)
    }
}
