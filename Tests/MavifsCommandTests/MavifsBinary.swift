import Foundation

/// The `mavifs` executable `swift build` made next to this test bundle.
enum MavifsBinary {
    struct NotBuilt: Error, CustomStringConvertible {
        let looked: [String]
        var description: String { "no mavifs binary (run `swift build` first); looked at \(looked.joined(separator: ", "))" }
    }

    static func path() throws -> String {
        // The test runner lives in the build products directory, beside the executables.
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        var candidates = [products.appendingPathComponent("mavifs").path]
        // When the runner is started from elsewhere (an .xctest bundle on macOS), fall back on the
        // package's default build directory.
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(package.appendingPathComponent(".build/debug/mavifs").path)
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw NotBuilt(looked: candidates)
        }
        return found
    }
}
