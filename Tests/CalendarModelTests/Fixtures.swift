import Foundation

/// The fixture files beside these tests.
enum Fixtures {
    struct File {
        let name: String
        let url: URL
        let bytes: [UInt8]
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Fixtures")

    /// Every `.ics` fixture, sorted by name.
    static func icalendarFiles() throws -> [File] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".ics") }
            .sorted()
        guard !names.isEmpty else { throw MissingFixtures(path: directory.path) }
        return try names.map(file)
    }

    static func file(_ name: String) throws -> File {
        let url = directory.appendingPathComponent(name)
        return File(name: name, url: url, bytes: Array(try Data(contentsOf: url)))
    }
}

struct MissingFixtures: Error, CustomStringConvertible {
    let path: String
    var description: String { "no .ics fixtures found in \(path)" }
}
