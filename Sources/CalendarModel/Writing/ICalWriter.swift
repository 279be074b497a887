/// Writes typed trees as iCalendar (RFC 5545): CRLF line ends, lines folded at 75 octets without
/// splitting a UTF-8 sequence, TEXT and parameter values escaped, `VALUE=` only where the value's
/// type is not the property's default (RFC 6321 §4).
public enum ICalWriter {
    /// The iCalendar bytes of these top-level components (usually VCALENDARs).
    public static func write(_ components: [ICalComponent], zones: WrittenZones? = nil) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(4096)
        var line = [UInt8]()
        line.reserveCapacity(256)
        for c in components { append(c, to: &out, line: &line, zones: zones) }
        return out
    }

    /// VTIMEZONEs written, by the storage of their trees (`ICalComponent.storageKey`): a zone
    /// that many calendars share (as those read from one CalWS request do) is written out once
    /// and its text repeated. It holds the zones, so that no storage it names is reused.
    public final class WrittenZones {
        private var text: [ICalComponent.StorageKey: [UInt8]] = [:]
        private var zones: [ICalComponent] = []
        private static let most = 64

        public init() {}

        /// How many zones are held.
        public var count: Int { zones.count }

        func text(of zone: ICalComponent) -> (key: ICalComponent.StorageKey, text: [UInt8]?)? {
            zone.storageKey.map { ($0, text[$0]) }
        }

        func keep(_ zone: ICalComponent, _ key: ICalComponent.StorageKey, _ text: ArraySlice<UInt8>) {
            guard zones.count < Self.most else { return }
            zones.append(zone)
            self.text[key] = Array(text)
        }
    }

    /// The iCalendar text of these top-level components.
    public static func string(_ components: [ICalComponent], zones: WrittenZones? = nil) -> String {
        String(decoding: write(components, zones: zones), as: UTF8.self)
    }

    static func append(_ c: ICalComponent, to out: inout [UInt8], line: inout [UInt8], zones: WrittenZones? = nil) {
        if let zones, c.name == "VTIMEZONE", let (key, text) = zones.text(of: c) {
            if let text { return out.append(contentsOf: text) }
            let start = out.count
            append(c, to: &out, line: &line)
            return zones.keep(c, key, out[start...])
        }
        out.append(literal: "BEGIN:")
        out.append(contentsOf: c.name.utf8)
        out.append(ASCII.cr)
        out.append(ASCII.lf)
        // Read in place: a loop over the arrays would copy (retain and release) every element.
        c.properties.withUnsafeBufferPointer { ps in
            for i in ps.indices { appendProperty(ps[i], to: &out, line: &line) }
        }
        c.components.withUnsafeBufferPointer { cs in
            for i in cs.indices { append(cs[i], to: &out, line: &line, zones: zones) }
        }
        out.append(literal: "END:")
        out.append(contentsOf: c.name.utf8)
        out.append(ASCII.cr)
        out.append(ASCII.lf)
    }

    static func appendProperty(_ p: ICalProperty, to out: inout [UInt8], line: inout [UInt8]) {
        // Values of different types cannot share one line's VALUE=: write a line per run of one type.
        let count = p.values.count
        if count <= 1 {
            writeLine(p, values: 0..<count, to: &out, line: &line)
            return
        }
        var start = 0
        while start < count {
            var end = start + 1
            let t = p.values[start].type
            while end < count, p.values[end].type == t { end += 1 }
            writeLine(p, values: start..<end, to: &out, line: &line)
            start = end
        }
    }

    /// One content line holding the values in `range` (all of one type).
    private static func writeLine(
        _ p: ICalProperty, values range: Range<Int>, to out: inout [UInt8], line: inout [UInt8]
    ) {
        line.removeAll(keepingCapacity: true)
        line.append(contentsOf: p.name.utf8)
        let type = range.isEmpty ? .text : p.values[range.lowerBound].type
        if type != .unknown, let icalName = type.icalName, type != PropertyTypes.defaultType(of: p.name) {
            line.append(literal: ";VALUE=")
            line.append(contentsOf: icalName.utf8)
        }
        var hasEncoding = false
        for param in p.parameters {
            if param.name == "ENCODING" { hasEncoding = true }
            appendParameter(param, to: &line)
        }
        if type == .binary && !hasEncoding {
            line.append(literal: ";ENCODING=BASE64")
        }
        line.append(ASCII.colon)
        for i in range {
            if i > range.lowerBound { line.append(ASCII.comma) }
            ValueFormatter.append(p.values[i], to: &line)
        }
        fold(line, into: &out)
    }

    static func appendParameter(_ param: ICalParameter, to line: inout [UInt8]) {
        line.append(ASCII.semicolon)
        line.append(contentsOf: param.name.utf8)
        line.append(ASCII.equals)
        let alwaysQuote: Bool
        switch PropertyTypes.parameterType(of: param.name) {
        case .uri, .calAddress: alwaysQuote = true
        default: alwaysQuote = false
        }
        var first = true
        for v in param.values {
            if !first { line.append(ASCII.comma) }
            first = false
            let quote =
                alwaysQuote
                || v.utf8.contains(where: { $0 == ASCII.colon || $0 == ASCII.semicolon || $0 == ASCII.comma })
            if quote { line.append(ASCII.quote) }
            for b in v.utf8 {
                switch b {
                case ASCII.caret:
                    line.append(ASCII.caret)
                    line.append(ASCII.caret)
                case ASCII.lf:
                    line.append(ASCII.caret)
                    line.append(0x6E)
                case ASCII.quote:
                    line.append(ASCII.caret)
                    line.append(ASCII.apostrophe)
                case ASCII.cr: break
                default: line.append(b)
                }
            }
            if quote { line.append(ASCII.quote) }
        }
    }

    /// Appends `line` with CRLF, folded so that no physical line exceeds 75 octets and no fold
    /// splits a UTF-8 sequence (RFC 5545 §3.1).
    static func fold(_ line: [UInt8], into out: inout [UInt8]) {
        let n = line.count
        if n <= 75 {
            out.append(contentsOf: line)
            out.append(ASCII.cr)
            out.append(ASCII.lf)
            return
        }
        var start = 0
        var limit = 75
        while start < n {
            var end = min(start + limit, n)
            // Never start the next segment on a UTF-8 continuation byte.
            while end < n, end > start + 1, line[end] & 0xC0 == 0x80 { end -= 1 }
            if start > 0 { out.append(ASCII.space) }
            out.append(contentsOf: line[start..<end])
            out.append(ASCII.cr)
            out.append(ASCII.lf)
            start = end
            limit = 74
        }
    }
}
