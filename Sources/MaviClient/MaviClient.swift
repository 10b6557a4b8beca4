import AsyncHTTPClient
import Foundation
import Logging
import MaviAPI
import NIOCore
import NIOHTTP1

/// The client of a memories.ai video library (or of `mavifs serve`, which speaks the same API).
///
/// One instance owns one connection pool; share it, and call ``shutdown()`` when done (or use
/// ``withClient(configuration:logger:_:)``). Every request is paced per endpoint
/// (``ClientConfiguration/pacing``), retried when the failure is transient
/// (``ClientConfiguration/retry``), and fails with a ``MaviClientError``.
public final class MaviClient: Sendable {
    public let configuration: ClientConfiguration
    let http: HTTPClient
    private let ownsHTTPClient: Bool
    let logger: Logger
    let redactor: Redactor
    private let limiters: [MaviEndpoint: RateLimiter]

    /// The largest JSON reply accepted; a page of 10,000 videos is about 10 MB.
    static let maxJSONBytes = 64 << 20

    /// Creates a client with its own connection pool, configured from `configuration.timeouts`.
    public convenience init(configuration: ClientConfiguration, logger: Logger = Logger(label: "mavifs.client")) {
        let http = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: Self.httpConfiguration(configuration.timeouts, connectionsPerHost: configuration.connectionsPerHost)
        )
        self.init(configuration: configuration, http: http, ownsHTTPClient: true, logger: logger)
    }

    /// Creates a client on an existing `HTTPClient`, which the caller keeps and shuts down.
    /// Its own timeouts then apply at the connection level, not ``Timeouts/connect`` and
    /// ``Timeouts/connectionIdle``.
    public convenience init(configuration: ClientConfiguration, httpClient: HTTPClient, logger: Logger = Logger(label: "mavifs.client")) {
        self.init(configuration: configuration, http: httpClient, ownsHTTPClient: false, logger: logger)
    }

    private init(configuration: ClientConfiguration, http: HTTPClient, ownsHTTPClient: Bool, logger: Logger) {
        self.configuration = configuration
        self.http = http
        self.ownsHTTPClient = ownsHTTPClient
        self.logger = logger
        redactor = Redactor(key: configuration.apiKey)
        limiters = configuration.pacing.limits.mapValues { RateLimiter(limit: $0, slack: configuration.pacing.slack, clock: configuration.clock) }
    }

    /// Closes the connection pool. Streams still open fail.
    public func shutdown() async throws {
        guard ownsHTTPClient else { return }
        try await http.shutdown()
    }

    /// Runs `body` with a client that is shut down afterwards, whether `body` returns or throws.
    public static func withClient<Result>(
        configuration: ClientConfiguration,
        logger: Logger = Logger(label: "mavifs.client"),
        _ body: (MaviClient) async throws -> Result
    ) async throws -> Result {
        let client = MaviClient(configuration: configuration, logger: logger)
        let result: Result
        do {
            result = try await body(client)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
        return result
    }

    static func httpConfiguration(_ timeouts: Timeouts, connectionsPerHost: Int) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .follow(max: 5, allowCycles: false),
            timeout: .init(
                connect: TimeAmount(timeouts.connect),
                read: TimeAmount(timeouts.connectionIdle),
                write: TimeAmount(timeouts.connectionIdle)
            ),
            decompression: .disabled
        )
        configuration.httpVersion = .automatic
        // A refused connection fails its request at once, and the retry policy (with its backoff
        // and its overall deadline) decides what follows. Left on, the pool would retry on its own
        // until the connect timeout, so each attempt at a wrong port would cost that timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        // Ranged reads run many requests side by side, each on a connection of its own, and the
        // first read of a video should find a warm one: kept while idle, as long as the server
        // keeps it.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(connectionsPerHost, 1)
        configuration.connectionPool.idleTimeout = TimeAmount(min(timeouts.connectionIdle, .seconds(120)))
        return configuration
    }
}

// MARK: - Building requests

extension MaviClient {
    /// The URL of an API endpoint, with query values percent-encoded except for `/` (the service
    /// expects `blob` paths with their slashes as they are).
    func url(for endpoint: MaviEndpoint, query: KeyValuePairs<String, String> = [:]) -> String {
        var base = configuration.endpoint.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        var url = base + (endpoint.path ?? "")
        if !query.isEmpty {
            url += "?" + query.map { "\($0.key)=\(Self.encodeQueryValue($0.value))" }.joined(separator: "&")
        }
        return url
    }

    private static let queryValueAllowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/")

    static func encodeQueryValue(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: queryValueAllowed) ?? value
    }

    /// Headers for a request to `url`. The key is attached only when `url` is on the configured
    /// endpoint's origin: a CDN URL from a listing must never receive it.
    func headers(for url: String, accept: String, contentType: String? = nil) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "User-Agent", value: configuration.userAgent)
        headers.add(name: "Accept", value: accept)
        if let contentType { headers.add(name: "Content-Type", value: contentType) }
        if let key = configuration.apiKey, isOnEndpointOrigin(url) {
            headers.add(name: "Authorization", value: configuration.authScheme.headerValue(for: key))
        }
        return headers
    }

    func isOnEndpointOrigin(_ url: String) -> Bool {
        guard let target = URLComponents(string: url), let own = URLComponents(url: configuration.endpoint, resolvingAgainstBaseURL: false) else {
            return false
        }
        func origin(_ c: URLComponents) -> (String, String, Int?) {
            let scheme = c.scheme?.lowercased() ?? ""
            let defaultPort = scheme == "https" ? 443 : scheme == "http" ? 80 : nil
            return (scheme, c.host?.lowercased() ?? "", c.port ?? defaultPort)
        }
        let (a, b) = (origin(target), origin(own))
        return a.0 == b.0 && a.1 == b.1 && a.2 == b.2
    }

    func interpreter(_ endpoint: MaviEndpoint) -> ReplyInterpreter {
        ReplyInterpreter(endpoint: endpoint, redactor: redactor)
    }

    static func jsonBody(_ value: some Encodable) -> ByteBuffer {
        // Encoding our own request types cannot fail.
        ByteBuffer(data: try! JSONEncoder().encode(value))
    }
}

// MARK: - Retries and pacing

/// Whether an operation may simply be sent again.
enum Repeatability {
    /// Repeating it has the same effect as sending it once (list, metadata, download, delete).
    case idempotent
    /// It must not run twice (an upload): repeat only what the server certainly refused.
    case onlyIfNotProcessed
}

extension MaviClient {
    /// Runs `operation` after waiting for the endpoint's rate limit, again after a backoff for as
    /// long as it fails transiently and the policy allows. Every error thrown is a
    /// ``MaviClientError``.
    func withRetries<Value>(
        _ endpoint: MaviEndpoint,
        _ repeatability: Repeatability = .idempotent,
        onPacingWait: (@Sendable (Duration) -> Void)? = nil,
        onRetry: (@Sendable (Int, Duration, MaviClientError) -> Void)? = nil,
        _ operation: (_ attempt: Int) async throws -> Value
    ) async throws -> Value {
        let policy = configuration.retry
        var generator = SystemRandomNumberGenerator()
        let clock = configuration.clock
        var firstSent: Duration?
        var attempt = 1
        while true {
            let limiter = limiters[endpoint.pacedAs]
            let permit: RateLimiter.Permit?
            do {
                permit = try await limiter?.acquire(onWait: onPacingWait)
            } catch {
                throw MaviClientError.cancelled
            }
            let started = ContinuousClock.now
            if firstSent == nil { firstSent = clock.now }
            ClientMetrics.attempt(endpoint)
            let failure: MaviClientError
            let release = PacingRelease(limiter: limiter, permit: permit)
            do {
                let value = try await PacingRelease.$current.withValue(release) { try await operation(attempt) }
                await release.release()
                return value
            } catch {
                await release.release()
                failure = MaviClientError.classify(error, endpoint: endpoint, redactor: redactor)
            }
            let metadata: Logger.Metadata = [
                "endpoint": "\(endpoint)", "attempt": "\(attempt)", "error": "\(failure)",
                "elapsed_ms": "\(Int((ContinuousClock.now - started).seconds * 1000))",
            ]
            let retryable = switch repeatability {
            case .idempotent: failure.isTransient
            case .onlyIfNotProcessed: failure.requestWasNotProcessed
            }
            guard retryable, failure != .cancelled else {
                if failure != .cancelled { ClientMetrics.failure(endpoint) }
                logger.debug("request failed", metadata: metadata)
                throw failure
            }
            guard attempt < policy.maxAttempts else {
                ClientMetrics.failure(endpoint)
                logger.warning("request failed, no attempts left", metadata: metadata)
                throw failure
            }
            let delay = policy.delay(beforeRetry: attempt, atLeast: failure.retryAfter, using: &generator)
            if let deadline = policy.deadline, let firstSent, clock.now + delay > firstSent + deadline {
                ClientMetrics.failure(endpoint)
                logger.warning("request failed, retry deadline reached", metadata: metadata)
                throw failure
            }
            ClientMetrics.retry(endpoint)
            logger.notice("request failed, retrying", metadata: metadata.merging(["delay_ms": "\(Int(delay.seconds * 1000))"]) { $1 })
            onRetry?(attempt, delay, failure)
            do {
                try await clock.sleep(for: delay)
            } catch {
                throw MaviClientError.cancelled
            }
            attempt += 1
        }
    }

    /// One JSON request/reply exchange, paced and retried: the `data` of the envelope.
    func callJSON<Payload: Decodable & Sendable>(
        _ endpoint: MaviEndpoint,
        method: HTTPMethod,
        query: KeyValuePairs<String, String> = [:],
        body: ByteBuffer? = nil,
        decoding type: Payload.Type
    ) async throws -> Payload? {
        let url = url(for: endpoint, query: query)
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers = headers(for: url, accept: "application/json", contentType: body == nil ? nil : "application/json")
        if let body { request.body = .bytes(body) }
        let timeout = configuration.timeouts.request

        return try await withRetries(endpoint) { attempt in
            let started = ContinuousClock.now
            let (status, headers, reply) = try await withTimeout(timeout, error: .timeout(endpoint: endpoint, .response)) { [http, request] in
                let response = try await http.execute(request, timeout: TimeAmount(timeout) + .seconds(1))
                ClientMetrics.firstByte(endpoint, since: started)
                await PacingRelease.current?.release()
                let reply = try await response.body.collect(upTo: Self.maxJSONBytes)
                return (response.status, response.headers, reply)
            }
            logger.debug("reply", metadata: [
                "endpoint": "\(endpoint)", "attempt": "\(attempt)", "status": "\(status.code)",
                "bytes": "\(reply.readableBytes)", "elapsed_ms": "\(Int((ContinuousClock.now - started).seconds * 1000))",
            ])
            return try interpreter(endpoint).payload(type, status: status, headers: headers, body: reply)
        }
    }
}
