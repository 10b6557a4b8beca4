import Foundation

/// How a `LibraryServer` runs. Every field has a default fit for tests: loopback, an ephemeral
/// port, Range honoured, rate limits on, no faults.
public struct ServerOptions: Sendable {
    /// Directory holding the library: `library.sqlite`, `videos/`, `covers/`, `api-key`.
    public var libraryDirectory: String
    /// Address to bind. Anything but loopback requires explicit `apiKeys`.
    public var host: String
    /// TCP port; 0 picks a free one (read it back with `LibraryServer.listeningPort()`).
    public var port: Int
    /// Accepted API keys. `nil` reads `DIR/api-key`, creating it (mode 0600) on first start.
    public var apiKeys: [String]?
    /// `false` makes the file URLs and the bucket/blob route ignore `Range` and answer 200 with
    /// the whole file, like a CDN without range support (`--no-range`).
    public var rangeRequests: Bool
    /// Enforce the documented per-key rate limits (`--no-rate-limits` turns them off).
    public var rateLimits: Bool
    /// Faults active from the start; they can be changed later through `LibraryServer.faults`
    /// or `POST /_admin/faults`.
    public var faults: FaultSettings
    /// Extra time a video stays `UNPARSE` before it is probed, so clients can observe processing.
    public var processingDelay: Duration
    /// How many videos are probed at the same time.
    public var processingConcurrency: Int
    /// Executables used to read video properties and make cover frames.
    public var ffprobePath: String
    public var ffmpegPath: String
    /// Let SIGINT/SIGTERM shut the server down gracefully (the `serve` command sets it).
    public var handleSignals: Bool
    /// How long a graceful shutdown may wait for requests in flight before they are cancelled.
    public var gracefulShutdownLimit: Duration

    public init(
        libraryDirectory: String,
        host: String = "127.0.0.1",
        port: Int = 0,
        apiKeys: [String]? = nil,
        rangeRequests: Bool = true,
        rateLimits: Bool = true,
        faults: FaultSettings = FaultSettings(),
        processingDelay: Duration = .zero,
        processingConcurrency: Int = 2,
        ffprobePath: String = "ffprobe",
        ffmpegPath: String = "ffmpeg",
        handleSignals: Bool = false,
        gracefulShutdownLimit: Duration = .seconds(10)
    ) {
        self.libraryDirectory = libraryDirectory
        self.host = host
        self.port = port
        self.apiKeys = apiKeys
        self.rangeRequests = rangeRequests
        self.rateLimits = rateLimits
        self.faults = faults
        self.processingDelay = processingDelay
        self.processingConcurrency = processingConcurrency
        self.ffprobePath = ffprobePath
        self.ffmpegPath = ffmpegPath
        self.handleSignals = handleSignals
        self.gracefulShutdownLimit = gracefulShutdownLimit
    }
}

/// Errors that stop a server from starting.
public enum ServerStartError: Error, CustomStringConvertible, Equatable {
    /// Binding a non-loopback address with a generated key would expose the library to the
    /// network behind a key nobody chose: the caller must pass keys explicitly.
    case nonLoopbackNeedsExplicitKey(host: String)
    case emptyKeyFile(path: String)
    /// The key file is not a private regular file of this user.
    case insecureKeyFile(path: String, mode: UInt16)
    case noAPIKeys
    case alreadyStarted

    public var description: String {
        switch self {
        case .nonLoopbackNeedsExplicitKey(let host):
            "refusing to listen on \(host): a non-loopback address needs an explicit API key (set MAVI_API_KEY)"
        case .emptyKeyFile(let path):
            "the API key file \(path) is empty"
        case .insecureKeyFile(let path, let mode):
            "the API key file \(path) must be a regular file that only its owner can read or write "
                + "(mode \(String(mode, radix: 8))); run: chmod 600 '\(path)'"
        case .noAPIKeys:
            "no API key was given"
        case .alreadyStarted:
            "this server has already been started"
        }
    }
}

/// Whether `host` names a loopback address (127.0.0.0/8, ::1, localhost).
func isLoopbackHost(_ host: String) -> Bool {
    let h = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
    if h == "localhost" || h == "::1" || h == "0:0:0:0:0:0:0:1" { return true }
    let parts = h.split(separator: ".", omittingEmptySubsequences: false)
    return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
}
