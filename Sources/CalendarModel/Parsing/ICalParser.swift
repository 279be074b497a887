/// The result of reading an iCalendar stream: every VCALENDAR in it, and what was wrong.
public struct ICalDocument: Hashable, Sendable {
    public var calendars: [ICalComponent]
    public var diagnostics: [ICalDiagnostic]

    public init(calendars: [ICalComponent], diagnostics: [ICalDiagnostic] = []) {
        self.calendars = calendars
        self.diagnostics = diagnostics
    }
}

/// Reads iCalendar (RFC 5545) bytes into typed trees.
///
/// Lenient where real feeds are sloppy (bare LF or CR line ends, a BOM, blank lines, TAB folds,
/// folds inside UTF-8 sequences, invalid UTF-8, a missing `VALUE=DATE`): each problem becomes a
/// diagnostic with its line number and the rest still parses. Input that is not iCalendar at all,
/// or that exceeds a limit, is refused with an `ICalendarError`.
public struct ICalParser: Sendable {
    /// Bounds against hostile input.
    public struct Limits: Sendable {
        /// Longest logical (unfolded) line, in bytes.
        public var maxLineBytes: Int = 4 << 20
        /// Deepest nesting of components (VCALENDAR > VEVENT > VALARM is 3).
        public var maxDepth: Int = 16
        /// Most components in one stream.
        public var maxComponents: Int = 2_000_000
        /// Most diagnostics kept; the rest are counted in one last diagnostic.
        public var maxDiagnostics: Int = 1000

        public init() {}
    }

    public var limits: Limits
    /// A stream of at least this many bytes is read in `parts` pieces on as many threads.
    public var concurrentThreshold: Int
    /// How many pieces a large stream is read in (default: one per online processor).
    public var parts: Int

    public init(limits: Limits = Limits(), concurrentThreshold: Int = 1 << 20, parts: Int = ConcurrencyWidth.processors)
    {
        self.limits = limits
        self.concurrentThreshold = concurrentThreshold
        self.parts = parts
    }

    /// A parser that reads every stream in one piece, on the calling thread.
    public static var oneThread: ICalParser { ICalParser(concurrentThreshold: .max, parts: 1) }

    /// Parses a stream read in one piece, on the calling thread, where a VTIMEZONE whose text
    /// (from its BEGIN line to its END line) is one `zones` holds is not read again: that tree is
    /// taken (it has the line of its first reading; the component its own). A zone read without
    /// a diagnostic is added to `zones`. A server reading many stored entities, each with its
    /// zones, reads each distinct zone once.
    public func parse(_ bytes: [UInt8], zones: SharedZones) throws(ICalendarError) -> ICalDocument {
        try bytes.withUnsafeBufferPointer { (buf) throws(ICalendarError) -> ICalDocument in
            var run = ParseRun(limits: limits)
            run.zones = zones
            try run.read(buf)
            return try run.finish()
        }
    }

    /// Parses a whole stream. A large stream is cut at component boundaries and its parts are
    /// read on every core; the result is exactly that of reading it in one piece (when a part
    /// does not end the way the cut assumed, the stream is read again in one piece).
    public func parse(_ bytes: [UInt8]) throws(ICalendarError) -> ICalDocument {
        try bytes.withUnsafeBufferPointer { (buf) throws(ICalendarError) -> ICalDocument in try parse(buf) }
    }

    /// Parses a whole stream held in memory the caller owns (a file mapped into memory, say):
    /// the tree keeps nothing of it.
    public func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(ICalendarError) -> ICalDocument {
        if bytes.count >= concurrentThreshold, parts > 1,
            let document = ParseRun.concurrent(bytes, parts: parts, limits: limits)
        {
            return document
        }
        var run = ParseRun(limits: limits)
        try run.read(bytes)
        return try run.finish()
    }

    /// Parses a whole stream given as a string.
    public func parse(_ text: String) throws(ICalendarError) -> ICalDocument {
        try parse(Array(text.utf8))
    }
}

/// The state of one parse.
struct ParseRun {
    let limits: ICalParser.Limits
    var calendars: [ICalComponent] = []
    var diagnostics: [ICalDiagnostic] = []
    var suppressedDiagnostics = 0
    var stack: [Open] = []
    var componentCount = 0
    var line = 0
    /// Physical lines read so far.
    var physicalLines = 0
    var scratch: [UInt8] = []
    var sawContent = false
    /// For a part of a stream read on its own: whether the VCALENDAR it began inside was closed.
    var closedContinuedCalendar = false
    /// Zones read before, by their text (see `ICalParser.parse(_:zones:)`); only a stream read
    /// in one piece, on one thread, has them (a run read on another thread has none).
    nonisolated(unsafe) var zones: SharedZones?
    /// A zone being read that `zones` did not hold: where its text begins, its line, and how
    /// many diagnostics there were then.
    var zoneStart: (offset: Int, line: Int, diagnostics: Int)?
    /// Set when a VTIMEZONE inside the VCALENDAR closes.
    var closedZone = false

    struct Open {
        var name: String
        var properties: [ICalProperty]
        var components: [ICalComponent] = []
        var beginLine: Int
        var firstDiagnostic: Int
        /// The VCALENDAR a part of a stream begins inside: opened in an earlier part.
        var continued = false

        init(name: String, beginLine: Int, firstDiagnostic: Int) {
            self.name = name
            self.beginLine = beginLine
            self.firstDiagnostic = firstDiagnostic
            properties = []
        }
    }

    init(limits: ICalParser.Limits) {
        self.limits = limits
        scratch.reserveCapacity(4096)
    }

    mutating func diagnose(_ message: String, line: Int? = nil) {
        if diagnostics.count >= limits.maxDiagnostics {
            suppressedDiagnostics += 1
            return
        }
        diagnostics.append(ICalDiagnostic(line: line ?? self.line, message: message))
    }

    /// Reads every line of `input`.
    mutating func read(_ input: Bytes) throws(ICalendarError) {
        var pos = 0
        let n = input.count
        if n >= 3, input[0] == 0xEF, input[1] == 0xBB, input[2] == 0xBF { pos = 3 }
        var physical = 1  // number of the physical line at `pos`
        defer { physicalLines = physical - 1 }

        while pos < n {
            if let zones, stack.count == 1, Self.startsZone(input, at: pos) {
                if let (zone, components, after, lines) = zones.zone(in: input, at: pos) {
                    componentCount += components
                    if componentCount > limits.maxComponents {
                        throw .limitExceeded(limit: "component count", value: limits.maxComponents, line: physical)
                    }
                    var zone = zone
                    zone.line = physical
                    stack[0].components.append(zone)
                    physical += lines
                    pos = after
                    continue
                }
                zoneStart = (pos, physical, diagnostics.count + suppressedDiagnostics)
            }
            // One physical line: [pos, end), then its terminator.
            let start = pos
            var seen = LineBytes()
            let end = Self.lineEnd(input, from: pos, seen: &seen)
            var next = end
            if next < n { next += (input[next] == ASCII.cr && next + 1 < n && input[next + 1] == ASCII.lf) ? 2 : 1 }
            line = physical
            physical += 1
            if end - start > limits.maxLineBytes {
                throw .limitExceeded(limit: "line length (bytes)", value: limits.maxLineBytes, line: line)
            }

            // Unfold: following lines that begin with a space or a tab continue this one.
            var folded = false
            if next < n, input[next] == ASCII.space || input[next] == ASCII.tab {
                folded = true
                scratch.removeAll(keepingCapacity: true)
                scratch.append(contentsOf: input.slice(start, end))
                while next < n, input[next] == ASCII.space || input[next] == ASCII.tab {
                    let e = Self.lineEnd(input, from: next + 1, seen: &seen)
                    scratch.append(contentsOf: input.slice(next + 1, e))
                    if scratch.count > limits.maxLineBytes {
                        throw .limitExceeded(limit: "line length (bytes)", value: limits.maxLineBytes, line: line)
                    }
                    next = e
                    if next < n {
                        next += (input[next] == ASCII.cr && next + 1 < n && input[next + 1] == ASCII.lf) ? 2 : 1
                    }
                    physical += 1
                }
            }
            pos = next

            if folded {
                let lineBytes = scratch
                scratch = []
                try lineBytes.withUnsafeBufferPointer { (b) throws(ICalendarError) in try contentLine(b, seen: seen) }
                scratch = lineBytes
            } else if end > start {
                try contentLine(input.slice(start, end), seen: seen)
            }
            if closedZone {
                closedZone = false
                // Kept only if the zone that closed is the one that began there (a BEGIN line
                // that turned out to be folded into another name began something else).
                let zone = stack[0].components[stack[0].components.count - 1]
                if let zones, let z = zoneStart, zone.line == z.line,
                    z.diagnostics == diagnostics.count + suppressedDiagnostics
                {
                    zones.keep(zone, text: UnsafeBufferPointer(rebasing: input[z.offset..<pos]))
                }
                zoneStart = nil
            }
        }
    }

    /// Whether a line `BEGIN:VTIMEZONE` (exactly) starts at `pos`.
    static func startsZone(_ input: Bytes, at pos: Int) -> Bool {
        let line = input.slice(pos, input.count)
        let n = "BEGIN:VTIMEZONE".utf8.count
        return line.count > n && (line[n] == ASCII.cr || line[n] == ASCII.lf) && line.hasPrefix("BEGIN:VTIMEZONE")
    }

    /// Closes what the input left open and returns the document.
    mutating func finish() throws(ICalendarError) -> ICalDocument {
        if !sawContent {
            throw .notICalendar("the input is empty")
        }
        // Close what the input left open, keeping its data.
        while !stack.isEmpty {
            diagnose("END:\(stack.last!.name) is missing at the end of the input", line: stack.last!.beginLine)
            closeTop()
        }
        if calendars.isEmpty {
            throw .notICalendar("no component found (a stream must hold BEGIN:VCALENDAR … END:VCALENDAR)")
        }
        if suppressedDiagnostics > 0 {
            diagnostics.append(ICalDiagnostic(line: 0, message: "\(suppressedDiagnostics) more problems not listed"))
        }
        return ICalDocument(calendars: calendars, diagnostics: diagnostics)
    }

    /// What a line's bytes were found to hold while its end was looked for.
    struct LineBytes {
        var nonASCII = false
        var control = false
    }

    /// The index of the first CR or LF at or after `from` (or the end of the input), noting in
    /// `seen` whether the bytes before it hold non-ASCII or control bytes (those lines get
    /// checked). Reads eight bytes at a time while they are plain printable ASCII.
    @inline(__always)
    static func lineEnd(_ input: Bytes, from: Int, seen: inout LineBytes) -> Int {
        let n = input.count
        guard let base = input.baseAddress else { return n }
        var i = from
        while true {
            while i + 8 <= n {
                let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                // Any byte < 0x20 (CR, LF, TAB, controls), or any byte >= 0x80.
                let below = (w &- 0x2020_2020_2020_2020) & ~w & 0x8080_8080_8080_8080
                if below | (w & 0x8080_8080_8080_8080) != 0 { break }
                i += 8
            }
            guard i < n else { return n }
            let c = base[i]
            if c == ASCII.lf || c == ASCII.cr { return i }
            if c >= 0x80 { seen.nonASCII = true } else if c < 0x20 && c != ASCII.tab { seen.control = true }
            i += 1
        }
    }

    /// Handles one unfolded line; `seen` says whether it may hold invalid UTF-8 or control bytes.
    mutating func contentLine(_ raw: Bytes, seen: LineBytes) throws(ICalendarError) {
        // Blank (or whitespace-only) lines occur between components in real feeds: skip them.
        if raw.isEmpty
            || ((raw[0] == ASCII.space || raw[0] == ASCII.tab)
                && raw.allSatisfy { $0 == ASCII.space || $0 == ASCII.tab })
        {
            return
        }

        if !sawContent {
            sawContent = true
            if !raw.trimmed.prefixEqualsUppercased("BEGIN:") {
                throw .notICalendar("line \(line) is \(Self.preview(raw)), where BEGIN:VCALENDAR was expected")
            }
        }

        if seen.nonASCII || seen.control, let repaired = repairText(raw, seen: seen) {
            try repaired.withUnsafeBufferPointer { (b) throws(ICalendarError) in try parsedLine(b) }
            return
        }
        try parsedLine(raw)
    }

    /// Replaces invalid UTF-8 and control characters with U+FFFD, with a diagnostic, or returns nil
    /// when the line is clean.
    mutating func repairText(_ raw: Bytes, seen: LineBytes) -> [UInt8]? {
        let validUTF8 = !seen.nonASCII || UTF8Check.isValid(raw)
        let hasControl = seen.control
        if validUTF8 && !hasControl { return nil }
        var bytes = Array(raw)
        if !validUTF8 {
            diagnose("invalid UTF-8 replaced by U+FFFD")
            bytes = Array(String(decoding: raw, as: UTF8.self).utf8)
        }
        guard hasControl else { return bytes }
        diagnose("control character replaced by U+FFFD")
        var clean = [UInt8]()
        clean.reserveCapacity(bytes.count + 8)
        for b in bytes {
            if b < 0x20 && b != ASCII.tab { clean.append(contentsOf: [0xEF, 0xBF, 0xBD]) } else { clean.append(b) }
        }
        return clean
    }

    static func preview(_ raw: Bytes) -> String {
        let s = String(decoding: raw.prefix(60), as: UTF8.self)
        let printable = s.unicodeScalars.map { $0.value < 0x20 ? "?" : String($0) }.joined()
        return "\"" + printable + (raw.count > 60 ? "…" : "") + "\""
    }

    /// Splits a content line into name, parameters and value (RFC 5545 §3.1). The parser's hot
    /// path: the steps it calls are inlined into it.
    mutating func parsedLine(_ b: Bytes) throws(ICalendarError) {
        let n = b.count
        var i = 0
        while i < n {
            let c = b[i]
            if c == ASCII.colon || c == ASCII.semicolon { break }
            i += 1
        }
        let nameBytes = b.slice(0, i).trimmed
        guard i < n, !nameBytes.isEmpty, nameBytes.allSatisfy(Self.isNameByte) else {
            diagnose(
                i >= n
                    ? "no ':' between name and value; line skipped: \(Self.preview(b))"
                    : "malformed property name; line skipped: \(Self.preview(b))")
            return
        }
        let isBegin = nameBytes.equalsUppercased("BEGIN")
        let isEnd = !isBegin && nameBytes.equalsUppercased("END")
        let name = isBegin ? "BEGIN" : isEnd ? "END" : nameBytes.upperString
        guard let parameters = lineParameters(b, at: &i, of: name) else { return }
        guard i < n, b[i] == ASCII.colon else {
            diagnose("no ':' between name and value of \(name); line skipped")
            return
        }
        let value = b.slice(i + 1, n)
        if isBegin {
            try begin(value.trimmed.upperString)
        } else if isEnd {
            end(value.trimmed.upperString)
        } else if stack.isEmpty {
            diagnose("property \(name) outside any component; line skipped")
        } else {
            stack[stack.count - 1].properties.append(property(name, parameters, value: value))
        }
    }

    /// What a content line's parameters say: the parameters kept, its VALUE type (nil when it
    /// names none; `.unknown` for a type this reader does not know) and whether ENCODING=BASE64.
    struct LineParameters {
        var list: [ICalParameter] = []
        var valueType: ValueType?
        var explicitValue: String?
        var base64 = false
    }

    /// Reads the parameters from `i` (at the first ';', if any) up to the ':' before the value,
    /// leaving `i` there; nil when the line is skipped (an unterminated quoted value).
    @inline(__always)
    mutating func lineParameters(_ b: Bytes, at i: inout Int, of name: String) -> LineParameters? {
        let n = b.count
        var p = LineParameters()
        while i < n, b[i] == ASCII.semicolon {
            i += 1
            let nameStart = i
            while i < n, b[i] != ASCII.equals, b[i] != ASCII.colon, b[i] != ASCII.semicolon { i += 1 }
            let pname = b.slice(nameStart, i).trimmed
            guard i < n, b[i] == ASCII.equals else {
                diagnose("parameter \(Self.preview(pname)) of \(name) has no '='; parameter ignored")
                continue
            }
            i += 1
            guard var values = parameterValues(b, at: &i, of: pname, in: name) else { return nil }
            guard !pname.isEmpty, pname.allSatisfy(Self.isNameByte) else {
                diagnose("malformed parameter name \(Self.preview(pname)) in \(name); parameter ignored")
                continue
            }
            if pname.equalsUppercased("VALUE") {
                p.explicitValue = values.first ?? ""
                if let known = ValueType(icalName: p.explicitValue!) {
                    p.valueType = known
                    continue
                }
                // A type this reader does not know: the raw value and this parameter are kept
                // as they are, so writing the property gives back the same line.
                p.valueType = .unknown
            }
            if pname.equalsUppercased("ENCODING"), values.first?.uppercased() == "BASE64" { p.base64 = true }
            // BOOLEAN parameters (RSVP) are case-insensitive; xCal spells them in lowercase, so one
            // spelling here keeps iCalendar → xCal → iCalendar exact.
            if pname.equalsUppercased("RSVP") { values = SmallList(values.map { $0.uppercased() }) }
            p.list.append(ICalParameter(name: pname.upperString, values: values))
        }
        return p
    }

    /// Reads a parameter's comma-separated values from `i` (after its '='), quoted or not, up
    /// to the ';' or ':' after them; nil when a quoted value is not terminated (line skipped).
    @inline(__always)
    mutating func parameterValues(_ b: Bytes, at i: inout Int, of pname: Bytes, in name: String)
        -> SmallList<String>?
    {
        let n = b.count
        var values = SmallList<String>()
        while true {
            if i < n, b[i] == ASCII.quote {
                let vs = i + 1
                var ve = vs
                while ve < n, b[ve] != ASCII.quote { ve += 1 }
                guard ve < n else {
                    diagnose("unterminated quoted value in parameter \(pname.string) of \(name); line skipped")
                    return nil
                }
                values.append(Self.decodeCarets(b.slice(vs, ve)))
                i = ve + 1
                // Tolerate junk between a closing quote and the next delimiter.
                while i < n, b[i] != ASCII.comma, b[i] != ASCII.semicolon, b[i] != ASCII.colon { i += 1 }
            } else {
                let vs = i
                while i < n, b[i] != ASCII.comma, b[i] != ASCII.semicolon, b[i] != ASCII.colon { i += 1 }
                values.append(Self.decodeCarets(b.slice(vs, i)))
            }
            guard i < n, b[i] == ASCII.comma else { return values }
            i += 1
        }
    }

    /// The property of a line: its value typed by its VALUE parameter or its name (RFC 5545
    /// §3.2.20), decoded first when it is BASE64 but not BINARY (RFC 6321 §3.1 step 3).
    @inline(__always)
    mutating func property(_ name: String, _ p: LineParameters, value: Bytes) -> ICalProperty {
        let info = PropertyTypes.info(of: name)
        var type = p.valueType ?? info.type ?? .unknown
        if let explicit = p.explicitValue, p.valueType == .unknown {
            diagnose("\(name) has unknown VALUE=\(explicit); value kept as it is")
        }
        guard p.base64 && type != .binary && type != .unknown else {
            return typedProperty(
                name: name, parameters: p.list, value: value, type: &type, explicit: p.valueType != nil,
                multiValued: info.multiValued)
        }
        guard let decoded = Base64.decode(value) else {
            diagnose("\(name) has ENCODING=BASE64 but its value is not base64; value kept as it is")
            return ICalProperty(name: name, parameters: p.list, values: [.unknown(value.string)])
        }
        let parameters = p.list.filter { $0.name != "ENCODING" }
        return decoded.withUnsafeBufferPointer {
            typedProperty(
                name: name, parameters: parameters, value: $0, type: &type, explicit: p.valueType != nil,
                multiValued: info.multiValued)
        }
    }

    /// Types the value; on failure keeps the raw text as `unknown` with a diagnostic.
    mutating func typedProperty(
        name: String, parameters: [ICalParameter], value: Bytes, type: inout ValueType, explicit: Bool,
        multiValued: Bool
    ) -> ICalProperty {
        var invalidEscape = false
        var values = ICalValues()
        var ok = true
        let multi = multiValued && type != .unknown
        if multi {
            for part in value.split(on: ASCII.comma, escapes: type == .text) {
                guard let v = parseOne(part, type: type, explicit: explicit, name: name, invalidEscape: &invalidEscape)
                else {
                    ok = false
                    break
                }
                values.append(v)
            }
        } else if let v = parseOne(value, type: type, explicit: explicit, name: name, invalidEscape: &invalidEscape) {
            values.append(v)
        } else {
            ok = false
        }
        if multi, ok, values.count > 1, values.contains(where: { $0.type != values[0].type }) {
            // One line carries one VALUE= type (a DATE and a DATE-TIME mixed is not a list).
            ok = false
        }
        if !ok {
            let shown = value.count > 80 ? String(decoding: value.prefix(80), as: UTF8.self) + "…" : value.string
            diagnose("\(name) value \"\(shown)\" is not a valid \(type.icalName ?? type.rawValue); kept as it is")
            return ICalProperty(name: name, parameters: parameters, values: [.unknown(value.string)])
        }
        if invalidEscape { diagnose("\(name) has a backslash escape RFC 5545 does not define; kept literally") }
        return ICalProperty(name: name, parameters: parameters, values: values)
    }

    mutating func parseOne(_ b: Bytes, type: ValueType, explicit: Bool, name: String, invalidEscape: inout Bool)
        -> ICalValue?
    {
        if let v = ValueParser.parse(b, as: type, invalidEscape: &invalidEscape) { return v }
        // Lenient: a DATE where DATE-TIME is the default, without VALUE=DATE (RFC 6321 erratum 3892).
        if type == .dateTime, !explicit, let d = ValueParser.date(b.trimmed) {
            diagnose("\(name) holds a DATE without VALUE=DATE; read as a DATE")
            return .date(d)
        }
        if type == .dateTime || type == .date || type == .integer || type == .float || type == .utcOffset
            || type == .duration,
            b.trimmed.count != b.count
        {
            return ValueParser.parse(b.trimmed, as: type, invalidEscape: &invalidEscape)
        }
        return nil
    }

    mutating func begin(_ name: String) throws(ICalendarError) {
        guard !name.isEmpty, name.utf8.allSatisfy(Self.isNameByte) else {
            diagnose("BEGIN without a valid component name; line skipped")
            return
        }
        if stack.isEmpty && name != "VCALENDAR" {
            // A bare component at the top level: read it inside an implied VCALENDAR.
            diagnose("BEGIN:\(name) outside BEGIN:VCALENDAR; read as if inside one")
            stack.append(Open(name: "VCALENDAR", beginLine: line, firstDiagnostic: diagnostics.count))
            componentCount += 1
        }
        if PropertyTypes.isItemComponent(name) || name == "VTIMEZONE",
            let open = stack.lastIndex(where: { PropertyTypes.isItemComponent($0.name) || $0.name == "VTIMEZONE" })
        {
            // Events, to-dos, journals and time zones never nest: the open one lost its END line.
            while stack.count > open {
                diagnose("END:\(stack.last!.name) is missing before BEGIN:\(name)", line: stack.last!.beginLine)
                closeTop()
            }
        }
        componentCount += 1
        if componentCount > limits.maxComponents {
            throw .limitExceeded(limit: "component count", value: limits.maxComponents, line: line)
        }
        if stack.count >= limits.maxDepth {
            throw .limitExceeded(limit: "component nesting depth", value: limits.maxDepth, line: line)
        }
        stack.append(Open(name: name, beginLine: line, firstDiagnostic: diagnostics.count))
    }

    mutating func end(_ name: String) {
        guard let idx = stack.lastIndex(where: { $0.name == name }) else {
            diagnose("END:\(name) without a matching BEGIN; line skipped")
            return
        }
        while stack.count - 1 > idx {
            diagnose("END:\(stack.last!.name) is missing before END:\(name)", line: stack.last!.beginLine)
            closeTop()
        }
        closeTop()
    }

    /// Closes the innermost open component and attaches it to its parent (or the stream).
    mutating func closeTop() {
        let open = stack.removeLast()
        if open.continued { closedContinuedCalendar = true }
        let comp = ICalComponent(
            name: open.name, properties: open.properties, components: open.components, line: open.beginLine)
        if PropertyTypes.isItemComponent(comp.name), open.firstDiagnostic < diagnostics.count {
            let uid = comp.uid
            let rid = comp.recurrenceID?.value.map(ValueFormatter.icalString)
            for k in open.firstDiagnostic..<diagnostics.count where diagnostics[k].component == nil {
                diagnostics[k].component = comp.name
                diagnostics[k].uid = uid
                diagnostics[k].recurrenceID = rid
            }
        }
        if stack.isEmpty {
            calendars.append(comp)
        } else {
            stack[stack.count - 1].components.append(comp)
            if stack.count == 1, comp.name == "VTIMEZONE" { closedZone = true }
        }
    }

    // MARK: Reading a large stream in parts

    /// Reads `input` in `parts` pieces on as many threads, or returns nil when the pieces do not
    /// join exactly as one reading would have read them (the caller then reads it in one piece).
    /// Each cut is made at a line `BEGIN:VEVENT` (or VTODO, VJOURNAL); a part after the first
    /// begins inside the VCALENDAR the part before it must end inside, with nothing else open.
    static func concurrent(_ input: Bytes, parts: Int, limits: ICalParser.Limits) -> ICalDocument? {
        var cuts = [0]
        for k in 1..<parts {
            guard let cut = componentStart(input, from: Swift.max(cuts.last! + 1, input.count * k / parts)) else {
                break
            }
            cuts.append(cut)
        }
        guard cuts.count > 1 else { return nil }
        cuts.append(input.count)
        let pieces = (0..<cuts.count - 1).map { (cuts[$0], cuts[$0 + 1]) }
        let source = UncheckedSendable(input)
        let runs: [ParseRun?] = pieces.concurrentMap(minimumPerThread: 1, state: { () }) { _, piece in
            var run = ParseRun(limits: limits)
            if piece.0 > 0 {
                run.sawContent = true
                run.stack = [Open(name: "VCALENDAR", beginLine: 0, firstDiagnostic: 0)]
                run.stack[0].continued = true
            }
            do { try run.read(source.value.slice(piece.0, piece.1)) } catch { return nil }
            return run
        }
        guard var merged = runs[0] else { return nil }
        for next in runs.dropFirst() {
            guard let next, merged.join(next) else { return nil }
        }
        return try? merged.finish()
    }

    /// Appends the next part's reading to this one; false when they do not join exactly.
    mutating func join(_ next: ParseRun) -> Bool {
        guard stack.count == 1, stack[0].name == "VCALENDAR",
            suppressedDiagnostics == 0, next.suppressedDiagnostics == 0,
            diagnostics.count + next.diagnostics.count <= limits.maxDiagnostics,
            componentCount + next.componentCount <= limits.maxComponents
        else { return false }
        let offset = physicalLines
        var next = next
        next.shiftLines(by: offset)
        // The VCALENDAR the next part began inside is the one open here.
        var calendars = next.calendars
        if next.closedContinuedCalendar {
            let continued = calendars.removeFirst()
            stack[0].properties += continued.properties
            stack[0].components += continued.components
            closeTop()
        } else {
            let continued = next.stack.removeFirst()
            stack[0].properties += continued.properties
            stack[0].components += continued.components
        }
        self.calendars += calendars
        // What is still open indexes the next part's diagnostics, which now follow these.
        for i in next.stack.indices { next.stack[i].firstDiagnostic += diagnostics.count }
        stack += next.stack
        diagnostics += next.diagnostics
        componentCount += next.componentCount
        physicalLines += next.physicalLines
        return true
    }

    /// Adds `offset` to every line this reading recorded (a part read on its own counts from 1).
    mutating func shiftLines(by offset: Int) {
        func shift(_ c: inout ICalComponent) {
            c.line += offset
            for i in c.components.indices { shift(&c.components[i]) }
        }
        for i in calendars.indices { shift(&calendars[i]) }
        for i in stack.indices {
            stack[i].beginLine += offset
            for k in stack[i].components.indices { shift(&stack[i].components[k]) }
        }
        for i in diagnostics.indices where diagnostics[i].line > 0 { diagnostics[i].line += offset }
    }

    /// The offset of the first line at or after `from` that is `BEGIN:VEVENT`, `BEGIN:VTODO` or
    /// `BEGIN:VJOURNAL` ending in CR or LF, preceded by an LF.
    static func componentStart(_ input: Bytes, from: Int) -> Int? {
        var i = Swift.max(from, 1)
        while i < input.count {
            if input[i - 1] == ASCII.lf, input[i] == 0x42 {  // B
                for name: StaticString in ["BEGIN:VEVENT", "BEGIN:VTODO", "BEGIN:VJOURNAL"] {
                    let end = i + name.utf8CodeUnitCount
                    guard end < input.count, input.slice(i, end).equalsUppercased(name) else { continue }
                    if input[end] == ASCII.cr || input[end] == ASCII.lf { return i }
                }
            }
            i += 1
        }
        return nil
    }

    @inline(__always) static func isNameByte(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || ASCII.isDigit(c) || c == ASCII.minus || c == 0x5F
    }

    /// RFC 6868: `^n` newline, `^'` double quote, `^^` caret; any other caret stays as it is.
    static func decodeCarets(_ b: Bytes) -> String {
        guard b.contains(ASCII.caret) else { return b.string }
        var out = [UInt8]()
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            if b[i] == ASCII.caret, i + 1 < b.count {
                switch b[i + 1] {
                case 0x6E:
                    out.append(ASCII.lf)
                    i += 2
                    continue
                case ASCII.apostrophe:
                    out.append(ASCII.quote)
                    i += 2
                    continue
                case ASCII.caret:
                    out.append(ASCII.caret)
                    i += 2
                    continue
                default: break
                }
            }
            out.append(b[i])
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
