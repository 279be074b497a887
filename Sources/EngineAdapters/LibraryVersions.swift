import Engine
internal import CCurl

/// Versions of the native libraries the engine links, for `outboard version` and bug reports.
public enum LibraryVersions {
    /// libcurl's own version line (`libcurl/7.88.1 OpenSSL/3.0.19 zlib/1.2.13 …`).
    public static var curl: String { String(cString: ccurl_version()) }
}
