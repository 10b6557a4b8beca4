import Foundation
import Logging
import MaviServer

/// A `LibraryServer` running in this process on a free loopback port, with a temporary library.
public struct RunningLibraryServer: Sendable {
    public let server: LibraryServer
    /// `http://127.0.0.1:PORT`
    public let baseURL: String
    public let port: Int
    /// The first accepted key.
    public let apiKey: String
    public let libraryDirectory: String
}

/// Starts and always stops in-process library servers for tests.
public enum ServerHarness {
    public struct Timeout: Error, CustomStringConvertible {
        public let what: String
        public var description: String { "timed out waiting for \(what)" }
    }

    /// Runs `body` against a fresh server. The server is shut down (and its library removed) when
    /// `body` returns or throws; starting and stopping are each bounded by `timeout`.
    ///
    /// Defaults suit tests: one random key, rate limits off (tests of the limits turn them on),
    /// Range on, no faults. `configure` changes anything else.
    public static func withServer<T>(
        rateLimits: Bool = false,
        timeout: Duration = .seconds(30),
        configure: (inout ServerOptions) -> Void = { _ in },
        _ body: (RunningLibraryServer) async throws -> T
    ) async throws -> T {
        let directory = try makeTemporaryLibraryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var options = ServerOptions(
            libraryDirectory: directory, host: "127.0.0.1", port: 0,
            apiKeys: ["sk-mavi-test-\(UUID().uuidString.lowercased())"], rateLimits: rateLimits)
        configure(&options)
        let server = try LibraryServer(options: options, logger: testLogger())
        let running = Task { try await server.run() }
        do {
            let port = try await withDeadline(timeout, "the server to listen") { try await server.listeningPort() }
            let handle = RunningLibraryServer(
                server: server, baseURL: "http://127.0.0.1:\(port)", port: port, apiKey: server.apiKey,
                libraryDirectory: directory)
            let result = try await body(handle)
            await stop(server, running, timeout: timeout)
            return result
        } catch {
            await stop(server, running, timeout: timeout)
            throw error
        }
    }

    /// Graceful shutdown; if it does not finish in time the run task is cancelled.
    private static func stop(_ server: LibraryServer, _ running: Task<Void, any Error>, timeout: Duration) async {
        await server.shutdown()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = await running.result }
            group.addTask {
                // Cancelling a finished task is harmless, so this needs no check of who came first.
                try? await Task.sleep(for: timeout)
                running.cancel()
            }
            await group.next()
            group.cancelAll()
        }
        _ = await running.result
    }

    /// Runs `operation`, failing with `Timeout` if it takes longer than `limit`.
    public static func withDeadline<T: Sendable>(
        _ limit: Duration, _ what: String, _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: limit)
                throw Timeout(what: what)
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// Polls `condition` every `interval` until it returns a value, failing after `limit`.
    public static func poll<T: Sendable>(
        _ what: String, every interval: Duration = .milliseconds(50), within limit: Duration = .seconds(30),
        _ condition: @escaping @Sendable () async throws -> T?
    ) async throws -> T {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while true {
            if let value = try await condition() { return value }
            guard clock.now < deadline else { throw Timeout(what: what) }
            try await Task.sleep(for: interval)
        }
    }

    private static func testLogger() -> Logger {
        var logger = Logger(label: "mavifs.serve.test")
        let level = ProcessInfo.processInfo.environment["MAVIFS_SERVER_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
        logger.logLevel = level ?? .warning
        return logger
    }

    private static func makeTemporaryLibraryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "mavifs-library-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
