/// The values of a property, or of a parameter: almost always exactly one, so one element is stored
/// inline and only a real list (CATEGORIES:A,B, EXDATE with several dates, DELEGATED-TO with two
/// addresses) takes an array. A feed's tree then costs an allocation less per property and per
/// parameter.
public struct SmallList<Element: Hashable & Sendable>: RandomAccessCollection, Hashable, Sendable,
    ExpressibleByArrayLiteral, CustomStringConvertible
{
    // Kept normalized (0 → empty, 1 → one, 2+ → many) so that synthesized equality is by content.
    @usableFromInline
    enum Storage: Hashable, Sendable {
        case empty
        case one(Element)
        case many([Element])
    }

    @usableFromInline
    var storage: Storage

    @inlinable
    public init() { storage = .empty }

    @inlinable
    public init<S: Sequence>(_ values: S) where S.Element == Element {
        storage = .empty
        for v in values { append(v) }
    }

    @inlinable
    public init(arrayLiteral elements: Element...) { self.init(elements) }

    @inlinable
    public var startIndex: Int { 0 }

    @inlinable
    public var endIndex: Int {
        switch storage {
        case .empty: 0
        case .one: 1
        case .many(let a): a.count
        }
    }

    @inlinable
    public subscript(position: Int) -> Element {
        switch storage {
        case .one(let v):
            precondition(position == 0, "index out of range")
            return v
        case .many(let a): return a[position]
        case .empty: preconditionFailure("index out of range")
        }
    }

    /// Appends a value.
    @inlinable
    public mutating func append(_ v: Element) {
        switch storage {
        case .empty: storage = .one(v)
        case .one(let first): storage = .many([first, v])
        case .many(var a):
            storage = .empty  // keep `a` uniquely referenced while it grows
            a.append(v)
            storage = .many(a)
        }
    }

    public var description: String { Array(self).description }
}

/// The typed values of a property.
public typealias ICalValues = SmallList<ICalValue>
