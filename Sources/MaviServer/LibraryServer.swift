import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// `mavifs serve`: a local library server that speaks the memories.ai Visual Search API.
///
///     let server = try LibraryServer(options: ServerOptions(libraryDirectory: dir))
///     let running = Task { try await server.run() }
///     let port = try await server.listeningPort()
///     …
///     await server.shutdown()          // graceful; or cancel `running`
///     try await running.value
///
/// See `LibraryRouter` for the routes and `Library.admin` for the loopback admin API.
public final class LibraryServer: Sendable {
    public let options: ServerOptions
    /// Where the accepted key is stored, when it was not given explicitly (`DIR/api-key`).
    public var keyFile: String? { library.keys.keyFile }
    /// The first accepted key, for in-process clients such as tests. Never log it.
    public var apiKey: String { library.keys.firstKey }

    private let library: Library
    private let logger: Logger
    private let state = Mutex(RunState())

    private struct RunState {
        var started = false
        var port: Int?
        var ended: (any Error)?
        var waiters: [Int: CheckedContinuation<Int, any Error>] = [:]
        var nextWaiter = 0
        var group: ServiceGroup?
    }

    /// The server stopped before it was listening, or has stopped since.
    public struct NotListening: Error {}

    /// Opens (or creates) the library and its key. Nothing listens until `run()`.
    public init(options: ServerOptions, logger: Logger = Logger(label: "mavifs.serve")) throws {
        self.options = options
        self.logger = logger
        // Checked before anything is created on disk.
        if options.apiKeys == nil, !isLoopbackHost(options.host) {
            throw ServerStartError.nonLoopbackNeedsExplicitKey(host: options.host)
        }
        let layout = LibraryLayout(root: options.libraryDirectory)
        try layout.prepare()
        let keys = try APIKeyStore.load(options, layout: layout)
        let database = try LibraryDatabase(path: layout.database)
        let ids = VideoNumberGenerator(floor: try database.largestVideoNumber())
        let processor = VideoProcessor(database: database, layout: layout, options: options, logger: logger)
        library = Library(
            options: options, layout: layout, database: database, keys: keys, ids: ids, processor: processor,
            logger: logger)
    }

    /// Serves until `shutdown()` is called, the task is cancelled, or (with `handleSignals`)
    /// SIGINT/SIGTERM arrives. Can be called once.
    public func run() async throws {
        try state.withLock { state in
            guard !state.started else { throw ServerStartError.alreadyStarted }
            state.started = true
        }
        let app = Application(
            router: LibraryRouter.build(library),
            server: .http1(configuration: .init(additionalChannelHandlers: [ExpectContinueHandler()])),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: nil),
            onServerRunning: { [self] channel in self.didStartListening(channel) },
            logger: logger)
        // Shut down in reverse order: release stalled streams, then drain HTTP, then stop processing.
        var configuration = ServiceGroupConfiguration(
            services: [library.processor, app, ShutdownWatcher(flag: library.shutdown)],
            gracefulShutdownSignals: options.handleSignals ? [.sigterm, .sigint] : [],
            logger: logger)
        // A long download in flight must not keep the server from stopping for good.
        configuration.maximumGracefulShutdownDuration = options.gracefulShutdownLimit
        let group = ServiceGroup(configuration: configuration)
        state.withLock { $0.group = group }
        do {
            try await group.run()
            didStop(NotListening())
        } catch {
            didStop(error)
            throw error
        }
    }

    /// Starts a graceful shutdown: no new connections, in-flight requests finish, stalls end.
    public func shutdown() async {
        library.shutdown.raise()
        let group = state.withLock { $0.group }
        await group?.triggerGracefulShutdown()
    }

    /// The bound port, once listening. Throws `NotListening` if the server ended first.
    public func listeningPort() async throws -> Int {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                state.withLock { state in
                    if let port = state.port {
                        continuation.resume(returning: port)
                    } else if let ended = state.ended {
                        continuation.resume(throwing: ended)
                    } else {
                        state.waiters[id] = continuation
                    }
                }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }

    /// Base URL clients should use, e.g. `http://127.0.0.1:8080`, once listening.
    public func baseURL() async throws -> String {
        let port = try await listeningPort()
        let host = options.host.contains(":") ? "[\(options.host)]" : options.host
        return "http://\(host):\(port)"
    }

    /// The loopback-only admin API, in process.
    public var faults: FaultSettings { library.faults.settings }
    public func setFaults(_ faults: FaultSettings) { library.faults.replace(with: faults) }
    public func stats() -> ServerStats { library.stats.snapshot() }
    public func resetStats() { library.stats.reset() }

    /// Adds `count` parsed videos straight to the store (no upload, no processing), for listing
    /// benchmarks and large-library tests. With `sourceFile`, every video's original is a hard link
    /// to it (a copy if linking fails), so downloads work without using more disk.
    /// Videos are named `<namePrefix>-000000`, `<namePrefix>-000001`, …, so a benchmark can find
    /// each kind of video it seeded by name. Returns the new video numbers, oldest first.
    @discardableResult
    public func seedVideos(
        count: Int, namespace: String = "default", sourceFile: String? = nil, namePrefix: String = "synthetic"
    ) async throws -> [String] {
        try await LibrarySeeder(library: library).seed(count: count, namespace: namespace, sourceFile: sourceFile, namePrefix: namePrefix)
    }

    private func didStartListening(_ channel: any Channel) {
        let port = channel.localAddress?.port ?? options.port
        library.boundPort.withLock { $0 = port }
        let waiters = state.withLock { state in
            state.port = port
            defer { state.waiters = [:] }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }

    private func didStop(_ error: any Error) {
        library.shutdown.raise()
        let waiters = state.withLock { state in
            state.ended = error
            state.port = nil
            defer { state.waiters = [:] }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume(throwing: error) }
    }
}

/// Raises the shutdown flag as soon as a graceful shutdown starts (signals included), so stalled
/// streams end instead of holding connections open.
private struct ShutdownWatcher: Service {
    let flag: ShutdownFlag

    func run() async throws {
        try? await gracefulShutdown()
        flag.raise()
    }
}
