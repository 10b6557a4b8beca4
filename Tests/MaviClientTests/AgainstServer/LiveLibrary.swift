import Foundation
import MaviAPI
@testable import MaviClient
import MaviServer
import NIOCore
import Testing
import TestSupport

/// A `mavifs serve` running in this process (real HTTP on loopback), and a client set up for it.
struct LiveLibrary: Sendable {
    let server: RunningLibraryServer
    let client: MaviClient

    /// What the server has seen, to check the client's behaviour from the other side.
    var stats: ServerStats { server.server.stats() }

    var endpoint: URL { URL(string: server.baseURL)! }

    /// Another client for the same server, configured differently (a wrong key, other pacing).
    /// It is shut down after `body`.
    func withClient<Result>(
        _ configure: (inout ClientConfiguration) -> Void,
        _ body: (MaviClient) async throws -> Result
    ) async throws -> Result {
        var configuration = client.configuration
        configure(&configuration)
        return try await withTestClient(configuration, body)
    }

    /// Waits (bounded) until the server has finished processing `videoNo`, as `get_metadata`
    /// tells, and returns the video then.
    func waitUntilProcessed(_ videoNo: String, within limit: Duration = .seconds(60)) async throws -> Video {
        let client = client
        return try await ServerHarness.poll("\(videoNo) to leave UNPARSE", every: .milliseconds(50), within: limit) {
            guard let video = try await client.getMetadata(videoNo: videoNo), video.status != .unparsed else { return nil }
            return video
        }
    }

    /// Uploads `path` through the client and waits until it is processed.
    func uploadAndWait(_ path: String, fields: UploadFields = UploadFields()) async throws -> Video {
        let reply = try await client.upload(file: path, fields: fields)
        #expect(reply.videoStatus == .unparsed, "a new upload starts UNPARSE")
        return try await waitUntilProcessed(reply.videoNo)
    }

    /// Seeds `count` parsed videos into the client's namespace; with `sourceFile`, each one's
    /// original is that file.
    func seed(_ count: Int, sourceFile: String? = nil) async throws -> [String] {
        try await server.server.seedVideos(count: count, namespace: client.configuration.namespace, sourceFile: sourceFile)
    }
}

/// Fast retries bounded by attempts only: the tests count attempts on the server, and a deadline
/// would cut them short on a machine busy enough to make each request slow.
let liveRetry = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(2), maxDelay: .milliseconds(10), deadline: nil)

/// Patient enough that only an injected fault, never a loaded machine, makes a request time out.
let liveTimeouts = Timeouts(connect: .seconds(10), request: .seconds(30), idleRead: .seconds(30), connectionIdle: .seconds(60))

/// Runs `body` against a fresh server whose only key is `Fixtures.testKey`, with a client that
/// holds that key, paces nothing and retries fast (change either with the `configure` closures).
/// Server and client are stopped whether `body` returns or throws, and no log line of the client
/// may hold the key.
func withLiveLibrary<Result>(
    rateLimits: Bool = false,
    server configureServer: (inout ServerOptions) -> Void = { _ in },
    client configureClient: (inout ClientConfiguration) -> Void = { _ in },
    _ body: (LiveLibrary) async throws -> Result
) async throws -> Result {
    try await ServerHarness.withServer(rateLimits: rateLimits, configure: { options in
        options.apiKeys = [Fixtures.testKey]
        configureServer(&options)
    }) { server in
        var configuration = testConfiguration(
            URL(string: server.baseURL)!, key: server.apiKey, retry: liveRetry, timeouts: liveTimeouts)
        configureClient(&configuration)
        return try await withTestClient(configuration) { client in
            try await body(LiveLibrary(server: server, client: client))
        }
    }
}

/// The SHA-256 of a whole byte stream, read chunk by chunk, and its length.
func digest(of stream: ByteStream) async throws -> (sha256: String, count: Int) {
    var digest = VideoDigest()
    var count = 0
    for try await chunk in stream {
        digest.update(chunk.readableBytesView)
        count += chunk.readableBytes
    }
    return (digest.finalize(), count)
}

/// A whole byte stream, gathered with plain copies: comparing megabytes this way costs little,
/// where hashing them in a debug build would keep the test threads busy for seconds.
func data(of stream: ByteStream) async throws -> Data {
    var result = Data()
    for try await chunk in stream { result.append(data(chunk)) }
    return result
}

func data(_ buffer: ByteBuffer) -> Data {
    buffer.withUnsafeReadableBytes { Data($0) }
}

/// The bytes of a file.
func contents(of path: String) throws -> Data {
    try Data(contentsOf: URL(fileURLWithPath: path))
}
