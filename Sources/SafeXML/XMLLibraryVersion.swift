internal import CLibXML2

/// The version of libxml2 this process was built against.
public enum XMLLibraryVersion {
    /// `libxml2/2.9.14`.
    public static var string: String {
        let v = Int(LIBXML_VERSION)
        return "libxml2/\(v / 10000).\(v / 100 % 100).\(v % 100)"
    }
}
