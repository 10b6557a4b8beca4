import Foundation
import MaviAPI

/// Everything a ``MaviClient`` needs to reach a library: where, which namespace, as whom, and how
/// patiently.
public struct ClientConfiguration: Sendable {
    /// The live service.
    public static let defaultEndpoint = URL(string: "https://api.memories.ai")!

    /// Scheme, host, port and an optional path prefix; the API paths (`/serve/api/v1/…`) are
    /// appended to it.
    public var endpoint: URL
    /// The `unique_id` namespace inside the account.
    public var namespace: String
    /// `nil` sends no `Authorization` header (a local server that does not check keys).
    public var apiKey: APIKey?
    public var authScheme: AuthScheme
    public var timeouts: Timeouts
    public var retry: RetryPolicy
    public var pacing: Pacing
    public var userAgent: String
    /// Connections kept to one host at most (more requests wait for one): ranged reads run many
    /// requests side by side, each on a connection of its own, besides the API's own calls.
    public var connectionsPerHost: Int
    /// The clock that pacing, retry backoff and a body's idle limit wait on, and retry deadlines
    /// are kept on (tests move one by hand).
    public var clock: TimeSource

    public init(
        endpoint: URL = ClientConfiguration.defaultEndpoint,
        namespace: String = APILimits.defaultNamespace,
        apiKey: APIKey?,
        authScheme: AuthScheme = .raw,
        timeouts: Timeouts = .standard,
        retry: RetryPolicy = .standard,
        pacing: Pacing = .documented,
        userAgent: String = "mavifs",
        connectionsPerHost: Int = 16,
        clock: TimeSource = .continuous
    ) {
        self.endpoint = endpoint
        self.namespace = namespace
        self.apiKey = apiKey
        self.authScheme = authScheme
        self.timeouts = timeouts
        self.retry = retry
        self.pacing = pacing
        self.userAgent = userAgent
        self.connectionsPerHost = connectionsPerHost
        self.clock = clock
    }
}

/// How long the client waits before giving up on one attempt.
public struct Timeouts: Sendable, Equatable {
    /// Establishing a connection (TCP and TLS).
    public var connect: Duration
    /// A whole JSON exchange (list, metadata, delete), and the wait for the response head of a
    /// download or ranged fetch.
    public var request: Duration
    /// The longest a byte stream may stay silent while the caller is waiting for its next chunk.
    /// Time the caller spends not asking for data does not count.
    public var idleRead: Duration
    /// Backstop for silence on the connection in either direction, including the wait for the
    /// reply once an upload's body is sent. It also runs while a download's caller is not asking
    /// for data, so it is kept well above ``idleRead``.
    public var connectionIdle: Duration

    public init(
        connect: Duration = .seconds(10),
        request: Duration = .seconds(60),
        idleRead: Duration = .seconds(30),
        connectionIdle: Duration = .seconds(300)
    ) {
        self.connect = connect
        self.request = request
        self.idleRead = idleRead
        self.connectionIdle = connectionIdle
    }

    public static let standard = Timeouts()
}
