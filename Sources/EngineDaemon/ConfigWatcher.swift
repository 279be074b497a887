import Engine
import Foundation

/// Notices changes to the configuration files (`*.yaml` in `Subscriptions/` and `Filters/`) by
/// polling their names, sizes and modification times: portable, cheap (two directory listings per
/// interval), and indifferent to how editors save. A change is reported once it has held still for
/// one interval, so a file being written is not read half-way.
public struct ConfigWatcher: Sendable {
    /// Each file's size and modification time, by path.
    public typealias Fingerprint = [String: [Double]]

    public let directories: [String]
    public let interval: TimeInterval
    /// The files as the configuration in force (or the last refused one) saw them.
    private var current: Fingerprint
    /// A change seen on the previous poll, reported if it is still the same on this one.
    private var settling: Fingerprint?

    public init(directories: [String], interval: TimeInterval = 2) {
        self.directories = directories
        self.interval = interval
        current = Self.fingerprint(directories)
    }

    /// Looks at the files again; true when they changed and have settled (time to reload).
    public mutating func poll() -> Bool {
        observe(Self.fingerprint(directories))
    }

    /// The decision, apart from the file system (for tests).
    public mutating func observe(_ f: Fingerprint) -> Bool {
        if f == current {
            settling = nil
            return false
        }
        if f == settling {
            current = f
            settling = nil
            return true
        }
        settling = f
        return false
    }

    public static func fingerprint(_ directories: [String]) -> Fingerprint {
        var out: Fingerprint = [:]
        for (_, path) in directories.flatMap(SubscriptionLoader.yamlFiles) {
            guard let a = try? FileManager.default.attributesOfItem(atPath: path) else { continue }
            out[path] = [
                Double((a[.size] as? NSNumber)?.int64Value ?? -1),
                (a[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0,
            ]
        }
        return out
    }
}
