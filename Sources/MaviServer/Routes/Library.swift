import Hummingbird
import Logging
import MaviAPI
import Synchronization

/// Everything the routes share: the store, the keys, the limits, the fault and stats recorders,
/// and the processing queue. One per running server.
final class Library: Sendable {
    let options: ServerOptions
    let layout: LibraryLayout
    let database: LibraryDatabase
    let keys: APIKeyStore
    let limiter: RateLimiter
    let faults: FaultInjector
    let stats: StatsRecorder
    let ids: VideoNumberGenerator
    let processor: VideoProcessor
    let shutdown: ShutdownFlag
    let logger: Logger
    /// The port actually bound, for URLs built when a request carries no `Host` header.
    let boundPort = Mutex<Int?>(nil)

    init(
        options: ServerOptions, layout: LibraryLayout, database: LibraryDatabase, keys: APIKeyStore,
        ids: VideoNumberGenerator, processor: VideoProcessor, logger: Logger
    ) {
        self.options = options
        self.layout = layout
        self.database = database
        self.keys = keys
        self.limiter = RateLimiter(enabled: options.rateLimits)
        self.faults = FaultInjector(options.faults)
        self.stats = StatsRecorder()
        self.ids = ids
        self.processor = processor
        self.shutdown = ShutdownFlag()
        self.logger = logger
    }

    typealias Handler = @Sendable (Request, LibraryRequestContext) async throws -> Response

    /// Wraps an API handler in what every API call goes through, in the order a gateway applies
    /// it: count, injected faults, authentication (`0401`, touching nothing), rate limit (`0429`).
    /// `APIFailure`s become envelopes with HTTP 200.
    ///
    /// The live service's answer to a bad key (HTTP 401 or 200 + `0401`) is not documented; this
    /// server answers 200 + `0401`, and clients must handle both.
    func api(_ endpoint: Endpoint, limit: RateLimiter.Bucket?, _ handler: @escaping Handler) -> Handler {
        { request, context in
            self.stats.countRequest(endpoint)
            if let injected = await self.injectedFault(endpoint, request, context) { return injected }
            guard let key = self.keys.authenticate(request.headers[.authorization]) else {
                return JSONReply.failure(APIFailure(.unauthorized, APIMessage.unauthorized))
            }
            if let limit, !self.limiter.admit(key, limit) {
                return JSONReply.failure(APIFailure(.rateLimited, APIMessage.rateLimited))
            }
            do {
                return try await handler(request, context)
            } catch let failure as APIFailure {
                return JSONReply.failure(failure)
            } catch {
                self.logger.error("\(endpoint.rawValue) failed: \(error)")
                return JSONReply.infrastructure(.internalServerError, path: request.uri.path)
            }
        }
    }

    /// Wraps an unauthenticated route (file URLs, covers, listings): counted and faultable.
    func open(_ endpoint: Endpoint, _ handler: @escaping Handler) -> Handler {
        { request, context in
            self.stats.countRequest(endpoint)
            if let injected = await self.injectedFault(endpoint, request, context) { return injected }
            return try await handler(request, context)
        }
    }

    private func injectedFault(_ endpoint: Endpoint, _ request: Request, _ context: LibraryRequestContext) async -> Response? {
        if faults.hangs(endpoint) {
            // Silent until the faults change, the client leaves or the server stops; polling keeps
            // this free of any task that could outlive the request. The request is then dropped
            // unprocessed, as by a server that went away: a delete its client gave up on must not
            // happen behind its back.
            while faults.hangs(endpoint), context.channel.isActive, !shutdown.isRaised, !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(20))
            }
            return JSONReply.infrastructure(.serviceUnavailable, path: request.uri.path)
        }
        if let latency = faults.latency(for: endpoint) {
            try? await Task.sleep(for: latency)
        }
        switch faults.takeRequestFault(for: endpoint) {
        case .none: return nil
        case .serviceUnavailable: return JSONReply.infrastructure(.serviceUnavailable, path: request.uri.path)
        case .rateLimited: return JSONReply.failure(APIFailure(.rateLimited, APIMessage.rateLimited))
        case .refused(let code): return JSONReply.failure(APIFailure(code, "refused (injected fault)"))
        }
    }

    /// Opens a stream of `path` for this request, with whatever stream fault is due.
    func fileStream(_ path: String, range: Range<Int64>, endpoint: Endpoint, context: LibraryRequestContext) -> FileStream {
        FileStream(
            path: path, range: range, fault: faults.takeStreamFault(for: endpoint), bytesPerSecond: faults.streamRate(for: endpoint),
            channel: context.channel,
            stats: stats, shutdown: shutdown)
    }
}
