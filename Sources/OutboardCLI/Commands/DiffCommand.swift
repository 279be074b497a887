import ArgumentParser
import CalWS
import CalendarModel
import FileCommands
import SafeXML
import SyncCore
import XCal

/// `outboard diff OLD NEW`: the field-level changes that turn OLD into NEW, item by item.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two calendar files item by item (matched by UID) and print the changes.",
        discussion: """
            Each line is one edit, whole on its own: '+' added, '-' removed, '~' changed, then the component \
            (VEVENT uid=… recurrence-id=…), the property and its values. PRODID, VERSION, DTSTAMP, CREATED and \
            LAST-MODIFIED are ignored. Exit status, as diff(1): 0 when the files are equal, 1 when they differ, 2 on error.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, xml
    }

    @Argument(help: "The calendar as it was (the target's copy).") var old: String
    @Argument(help: "The calendar as it is now (the source).") var new: String
    @Option(
        name: .customLong("skip"),
        help: ArgumentHelp(
            "Also ignore this property (glob such as X-MS-*), or a component such as VALARM. Repeatable.",
            valueName: "name"))
    var skip: [String] = []
    @Option(help: "text (one line per edit) or xml (the CalWS-SOAP operations that carry the changes).")
    var format: Format = .text

    func run() throws {
        let before = try Self.items(old)
        let after = try Self.items(new)
        var skipList = SkipList.defaults
        for name in skip {
            let upper = name.uppercased()
            skipList = skipList.merging(
                PropertyTypes.knownComponentNames.contains(upper)
                    ? SkipList(components: [upper]) : SkipList(properties: [upper]))
        }
        let afterByKey = Dictionary(after.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let beforeKeys = Set(before.map(\.key))

        var changes: [(key: String, change: ItemChange)] = []
        for t in before {
            if let s = afterByKey[t.key] {
                let d = Differ.diff(source: s, target: t, skip: skipList)
                if !d.isEmpty { changes.append((t.key, .update(d))) }
            } else {
                changes.append((t.key, .remove(t)))
            }
        }
        for s in after where !beforeKeys.contains(s.key) { changes.append((s.key, .add(s))) }

        switch format {
        case .text:
            for (_, change) in changes {
                switch change {
                case .update(let d): ChangeSetPrinter.lines(d).forEach(Console.current.print)
                case .add(let item): ChangeSetPrinter.lines(wholeItem: item, marker: "+").forEach(Console.current.print)
                case .remove(let item):
                    ChangeSetPrinter.lines(wholeItem: item, marker: "-").forEach(Console.current.print)
                }
            }
        case .xml:
            Console.current.write(
                XMLSerializer.serialize(Self.operations(changes), prefixes: CalWSNamespace.prefixes) + [0x0A])
        }
        if !changes.isEmpty { throw CommandExit(code: 1, message: nil) }
    }

    enum ItemChange {
        case update(ComponentUpdate)
        case add(ICalItem)
        case remove(ICalItem)
    }

    /// The CalWS-SOAP operations that carry the changes, as one `multiOp`. Each `href` is the item's
    /// key here; the engine puts the target's entity href there (and the change token updateItem needs).
    static func operations(_ changes: [(key: String, change: ItemChange)]) -> XMLElement {
        let ns = CalWSNamespace.uri
        var ops = XMLElement("operations", namespace: ns)
        for (key, change) in changes {
            let href = XMLElement("href", namespace: ns, text: key)
            switch change {
            case .update(let d):
                ops.append(
                    XMLElement(
                        "updateItem", namespace: ns, children: [.element(href), .element(SelectTree.element(d))]))
            case .add(let item):
                ops.append(
                    XMLElement(
                        "addItem", namespace: ns,
                        children: [.element(href), .element(XCalWriter.document([item.calendar()]))]))
            case .remove:
                ops.append(XMLElement("deleteItem", namespace: ns, children: [.element(href)]))
            }
        }
        return XMLElement("multiOp", namespace: ns, children: [.element(ops)])
    }

    /// The items of a file; problems reading it are printed, and a file that is not iCalendar at
    /// all is an error (exit 2: a diff of it means nothing).
    static func items(_ path: String) throws -> [ICalItem] {
        let input = try InputFile(path)
        let set = ItemGrouper.items(from: try input.parseICalendar(failureCode: 2))
        input.print(set.diagnostics)
        return set.items
    }
}
