import Foundation
import MaviAPI
import MaviServer
import Testing
import TestSupport

@Suite("Server lifecycle and keys")
struct LifecycleTests {
    private func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "mavifs-lifecycle-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("Without explicit keys a key file is created once, mode 0600, and reused")
    func generatedKeyFile() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try LibraryServer(options: ServerOptions(libraryDirectory: directory))
        let keyFile = try #require(first.keyFile)
        #expect(keyFile == directory + "/api-key")
        let attributes = try FileManager.default.attributesOfItem(atPath: keyFile)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(first.apiKey.hasPrefix("sk-mavi-") && first.apiKey.count > 30)
        let second = try LibraryServer(options: ServerOptions(libraryDirectory: directory))
        #expect(second.apiKey == first.apiKey)
    }

    @Test("A non-loopback address needs explicit keys")
    func nonLoopbackNeedsKey() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(throws: ServerStartError.nonLoopbackNeedsExplicitKey(host: "0.0.0.0")) {
            try LibraryServer(options: ServerOptions(libraryDirectory: directory, host: "0.0.0.0"))
        }
        #expect(!FileManager.default.fileExists(atPath: directory + "/api-key"))
        _ = try LibraryServer(options: ServerOptions(libraryDirectory: directory, host: "0.0.0.0", apiKeys: ["sk-mavi-x"]))
    }

    @Test("A key file others could read or change is refused, with the chmod that fixes it")
    func keyFilePermissions() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try LibraryServer(options: ServerOptions(libraryDirectory: directory))
        let keyFile = try #require(first.keyFile)
        for mode in [0o644, 0o640, 0o604, 0o660] {
            #expect(chmod(keyFile, mode_t(mode)) == 0)
            #expect(throws: ServerStartError.insecureKeyFile(path: keyFile, mode: UInt16(mode))) {
                try LibraryServer(options: ServerOptions(libraryDirectory: directory))
            }
            let message = ServerStartError.insecureKeyFile(path: keyFile, mode: UInt16(mode)).description
            #expect(message.contains("chmod 600") && !message.contains(first.apiKey))
        }
        #expect(chmod(keyFile, 0o400) == 0)
        #expect(try LibraryServer(options: ServerOptions(libraryDirectory: directory)).apiKey == first.apiKey)
    }

    @Test("The library survives a restart, and videos left UNPARSE are processed on the next start")
    func restart() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let options = ServerOptions(libraryDirectory: directory, apiKeys: ["sk-mavi-restart"], processingDelay: .seconds(60))
        let source = try await SharedVideos.shared.mp4()

        let pending = try await run(options) { api async throws in
            try await api.uploadOK(file: source)
        }
        var resumed = options
        resumed.processingDelay = .zero
        try await run(resumed) { api async throws in
            let video = try await api.waitUntilProcessed(pending)
            #expect(video.status == .parsed)
            // New ids stay above the old ones.
            let next = try await api.uploadOK(file: source)
            #expect(next.count == pending.count && next > pending)
        }
    }

    @Test("Two servers cannot share a port, and the second reports why")
    func portInUse() async throws {
        try await ServerHarness.withServer { server async throws in
            let directory = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let clash = try LibraryServer(options: ServerOptions(libraryDirectory: directory, port: server.port, apiKeys: ["k"]))
            await #expect(throws: (any Error).self) {
                try await ServerHarness.withDeadline(.seconds(20), "the clashing server to fail") { try await clash.run() }
            }
            await #expect(throws: (any Error).self) { try await clash.listeningPort() }
        }
    }

    /// Runs a server on `options` (a fixed library) for the length of `body`.
    private func run<T: Sendable>(_ options: ServerOptions, _ body: (TestAPI) async throws -> T) async throws -> T {
        let server = try LibraryServer(options: options)
        let running = Task { try await server.run() }
        do {
            let port = try await ServerHarness.withDeadline(.seconds(20), "the server to listen") { try await server.listeningPort() }
            let result = try await body(TestAPI(base: "http://127.0.0.1:\(port)", key: server.apiKey))
            await server.shutdown()
            try await running.value
            return result
        } catch {
            await server.shutdown()
            _ = await running.result
            throw error
        }
    }
}
