#if canImport(Glibc)
    import Glibc
#endif

/// Files only their owner may read (the stores' SQLite files, mode 0600).
public enum PrivateFile {
    /// Creates an empty file at `path` with mode 0600 unless one exists. An existing file is never
    /// replaced or truncated: another process may have opened it already (two engines starting on
    /// a new state directory at once; Foundation's `createFile` writes a new file and renames it
    /// over the old one, which left the first process migrating a file nobody could see).
    public static func create(atPath path: String) throws(PrivateFileError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 {
            close(fd)
        } else if errno != EEXIST {
            throw PrivateFileError(path: path, reason: String(cString: strerror(errno)))
        }
    }
}

public struct PrivateFileError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "cannot create \(path): \(reason)" }
}
