#if canImport(Glibc)
    import Glibc
#endif

/// VTIMEZONEs read before, by their text, for `ICalParser.parse(_:zones:)`: a server reading
/// many stored entities one by one (each carrying its zones) reads each distinct zone once,
/// and the entities then share that tree and its storage, so the writers, which repeat a zone
/// they already wrote by its storage (`XCalWriter`, `ICalWriter.WrittenZones`), write it once.
public final class SharedZones {
    private struct Zone {
        var tree: ICalComponent
        /// From its BEGIN line to the end of its END line.
        var text: [UInt8]
        /// The components in the tree (the zone itself included), and the lines of the text.
        var components: Int
        var lines: Int
    }

    private var zones: [Zone] = []
    private static let most = 64

    public init() {}

    /// How many zones are held.
    public var count: Int { zones.count }

    /// The zone whose text is at `pos` in `input`, if one is held: its tree, how many components
    /// it has, where its text ends, and how many lines it has. Not when the line after it
    /// continues its END line (folding), nor when its text ends in a CR that `input` follows
    /// with an LF (one line end there, two in the text's own).
    func zone(in input: UnsafeBufferPointer<UInt8>, at pos: Int) -> (
        tree: ICalComponent, components: Int, after: Int, lines: Int
    )? {
        guard let base = input.baseAddress else { return nil }
        for z in zones {
            let after = pos + z.text.count
            guard after <= input.count,
                z.text.withUnsafeBufferPointer({ memcmp(base + pos, $0.baseAddress!, $0.count) == 0 })
            else { continue }
            if after < input.count {
                let next = input[after]
                if next == ASCII.space || next == ASCII.tab || (next == ASCII.lf && z.text.last == ASCII.cr) {
                    return nil
                }
            }
            return (z.tree, z.components, after, z.lines)
        }
        return nil
    }

    /// Keeps a zone read from `text` (the parser read it without a diagnostic).
    func keep(_ tree: ICalComponent, text: UnsafeBufferPointer<UInt8>) {
        guard zones.count < Self.most, !text.isEmpty else { return }
        func count(_ c: ICalComponent) -> Int { 1 + c.components.reduce(0) { $0 + count($1) } }
        var lines = 0
        for i in text.indices
        where text[i] == ASCII.lf || (text[i] == ASCII.cr && (i + 1 == text.count || text[i + 1] != ASCII.lf)) {
            lines += 1
        }
        zones.append(Zone(tree: tree, text: Array(text), components: count(tree), lines: lines))
    }
}
