internal import CLibXML2

/// libxml2's process-wide set-up. `xmlInitParser` must run once, before any thread uses the
/// library (libxml2 2.9 initializes its globals, dictionaries and locks there, not thread-safely
/// on first use); the reader and the writer both reach it through `ready` (a Swift global,
/// initialized once under a lock).
enum LibXML2 {
    static let ready: Void = { xmlInitParser() }()
}
