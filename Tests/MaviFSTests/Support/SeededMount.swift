import FUSE
import Foundation
import Logging
import MaviAPI
import MaviClient
import MaviFS
import MaviLibrary
import MaviServer
import TestSupport

/// A video seeded on the server with bytes of its own, and those bytes to check reads against.
struct SeededVideo: Sendable {
    let videoNo: String
    let source: [UInt8]
    /// Its stable name in the mount.
    var byID: String { "by-id/\(videoNo).mp4" }
}

/// A local server seeded with videos of pseudo-random bytes (no uploads, no processing), mounted
/// in this process with short deadlines and patient-enough retries, for tests that make the
/// server misbehave. The client's timeouts are short so that faults play out in seconds.
struct SeededMount: Sendable {
    let mountpoint: String
    let server: RunningLibraryServer
    let videos: [SeededVideo]
    let reader: VideoReader
    /// The client the mount uses; tests may ask the server through it too.
    let client: MaviClient
    let session: FUSESession
    /// The block cache's folder; nothing may be written outside it (but the seeded sources).
    let cacheDirectory: String
    let options: MaviFSOptions
    let deletes: DeleteQueue

    func path(_ relative: String) -> String { mountpoint + "/" + relative }

    func setFaults(_ faults: FaultSettings) { server.server.setFaults(faults) }

    /// Adds a video while mounted; it shows once a listing is fetched again.
    func seedAnother(size: Int, seed: UInt64, in directory: String) async throws -> SeededVideo {
        try await Self.seed(server, size: size, seed: seed, directory: directory)
    }

    static let clientTimeouts = Timeouts(connect: .seconds(2), request: .seconds(3), idleRead: .seconds(2), connectionIdle: .seconds(30))
    static let clientRetries = RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(200), maxDelay: .seconds(2), deadline: .seconds(10))

    static func with(
        videoCount: Int, videoSize: Int = 2 << 20,
        options: MaviFSOptions = MaviFSOptions(listTTL: .seconds(1), readTimeout: .seconds(8), metadataTimeout: .seconds(3)),
        rangeRequests: Bool = true, deleteSettings: DeleteQueue.Settings = DeleteQueue.Settings(),
        _ body: @Sendable (SeededMount) async throws -> Void
    ) async throws {
        try await ServerHarness.withServer(configure: { $0.rangeRequests = rangeRequests }) { running in
            let work = try TemporaryDirectory(prefix: "mavifs-faults")
            defer { work.remove() }
            var videos: [SeededVideo] = []
            for i in 0..<videoCount {
                videos.append(try await seed(running, size: videoSize, seed: UInt64(i + 1), directory: work.path))
            }
            let client = MaviClient(configuration: ClientConfiguration(
                endpoint: URL(string: running.baseURL)!, apiKey: try APIKey(running.apiKey),
                timeouts: clientTimeouts, retry: clientRetries, pacing: .unlimited))
            var logger = Logger(label: "mavifs.test.faults")
            logger.logLevel = ProcessInfo.processInfo.environment["MAVIFS_TEST_LOG"] == nil ? .critical : .debug
            let cache = CacheConfiguration(
                directory: work.appending("cache"), blockSize: 256 << 10, readTimeout: options.readTimeout,
                downloadRetryDelay: .milliseconds(200), failureCooldown: .seconds(1))
            let reader = try VideoReader(client: client, namespace: APILimits.defaultNamespace, configuration: cache, logger: logger)
            let catalog = VideoCatalog(source: client, ttl: options.listTTL, logger: logger)
            let deletes = try DeleteQueue(
                journalPath: DeleteQueue.journalPath(
                    cacheDirectory: cache.directory, endpoint: running.baseURL, namespace: APILimits.defaultNamespace),
                source: client, catalog: catalog, settings: deleteSettings, logger: logger)
            deletes.start()
            let fs = MaviFileSystem(catalog: catalog, content: reader, deletes: deletes, options: options, logger: logger)
            do {
                try await withMount(fs, options: MountOptions(fsName: "mavifs-test", subtype: "mavifs")) { mnt, session in
                    fs.attach(session)
                    try await body(SeededMount(mountpoint: mnt, server: running, videos: videos, reader: reader, client: client, session: session, cacheDirectory: cache.directory, options: options, deletes: deletes))
                }
            } catch {
                running.server.setFaults(FaultSettings())
                _ = await deletes.drain(within: .seconds(5))
                await reader.shutdown()
                try? await client.shutdown()
                throw error
            }
            running.server.setFaults(FaultSettings())
            _ = await deletes.drain(within: .seconds(5))
            await reader.shutdown()
            try? await client.shutdown()
        }
    }

    private static func seed(_ running: RunningLibraryServer, size: Int, seed: UInt64, directory: String) async throws -> SeededVideo {
        let file = directory + "/source-\(seed).mp4"
        try VideoFixtures.makeNonVideo(at: file, count: size, seed: seed)
        let numbers = try await running.server.seedVideos(count: 1, sourceFile: file)
        return SeededVideo(videoNo: numbers[0], source: Array(try Data(contentsOf: URL(fileURLWithPath: file))))
    }
}
