import Foundation
import Logging
import MaviAPI
import MaviClient
@testable import MaviLibrary
import MaviServer
import Synchronization
import TestSupport
import Testing

/// Small blocks so that a few-megabyte file spans many of them.
let testBlockSize = 64 << 10

/// A library server with seeded videos of known bytes, a client for it, and a cache folder.
struct LibraryFixture: Sendable {
    let running: RunningLibraryServer
    let client: MaviClient
    /// The videos as the listing describes them, in seeding order.
    let videos: [Video]
    /// The bytes every seeded video holds.
    let source: [UInt8]
    let cacheDirectory: String

    var server: LibraryServer { running.server }

    func configuration(
        maxBytes: Int64? = 256 << 20, readTimeout: Duration = .seconds(120), useRanges: Bool = true,
        downloadAttempts: Int = 4, maxBackgroundDownloads: Int = 2
    ) -> CacheConfiguration {
        CacheConfiguration(
            directory: cacheDirectory, maxBytes: maxBytes, blockSize: testBlockSize, readTimeout: readTimeout,
            useRanges: useRanges, downloadAttempts: downloadAttempts, downloadRetryDelay: .milliseconds(20),
            failureCooldown: .seconds(30), maxBackgroundDownloads: maxBackgroundDownloads, flushInterval: .milliseconds(500))
    }

    func makeReader(_ configuration: CacheConfiguration? = nil) throws -> VideoReader {
        try VideoReader(client: client, namespace: Self.namespace, configuration: configuration ?? self.configuration(), logger: testLogger("mavifs.library.test"))
    }

    /// Downloads per video that reached the server.
    func downloads(_ video: Video) -> Int { server.stats().downloads[video.videoNo] ?? 0 }
    func fileRequests(_ video: Video) -> Int { server.stats().fileRequests[video.videoNo] ?? 0 }

    static let namespace = "library-tests"

    /// Runs `body` against a fresh server (Range honoured or not) holding `count` videos of
    /// `size` pseudo-random bytes, with an empty cache folder that is removed afterwards.
    static func with<T: Sendable>(
        videos count: Int = 1, size: Int = 1_500_000, rangeRequests: Bool = true,
        // Generous: the machine running the tests may be loaded (every test of the suite runs at
        // once, so each gets a small share of two cores), and a retried request would count as a
        // second download on the server.
        clientTimeouts: Timeouts = Timeouts(connect: .seconds(30), request: .seconds(120), idleRead: .seconds(60), connectionIdle: .seconds(180)),
        clientRetry: RetryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50), deadline: .seconds(150)),
        pacing: Pacing = .unlimited, clock: TimeSource = .continuous,
        _ body: (LibraryFixture) async throws -> T
    ) async throws -> T {
        let work = try TemporaryDirectory(prefix: "mavifs-library")
        defer { work.remove() }
        let sourcePath = work.appending("source.mp4")
        try VideoFixtures.makeNonVideo(at: sourcePath, count: size, seed: UInt64(size))
        let source = [UInt8](try Data(contentsOf: URL(fileURLWithPath: sourcePath)))
        return try await ServerHarness.withServer(configure: { $0.rangeRequests = rangeRequests }) { running in
            try await running.server.seedVideos(count: count, namespace: namespace, sourceFile: sourcePath)
            let configuration = ClientConfiguration(
                endpoint: URL(string: running.baseURL)!, namespace: namespace, apiKey: try APIKey(running.apiKey),
                timeouts: clientTimeouts, retry: clientRetry, pacing: pacing, clock: clock)
            return try await MaviClient.withClient(configuration: configuration, logger: testLogger("mavifs.client.test")) { client in
                let listed = try await client.allVideos()
                #expect(listed.count == count)
                let fixture = LibraryFixture(
                    running: running, client: client, videos: listed.sorted { $0.videoNo < $1.videoNo }, source: source,
                    cacheDirectory: work.appending("cache"))
                return try await body(fixture)
            }
        }
    }
}

func testLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    let level = ProcessInfo.processInfo.environment["MAVIFS_TEST_LOG"].flatMap(Logger.Level.init(rawValue:))
    logger.logLevel = level ?? .warning
    return logger
}

/// Runs `body` with a reader that is always shut down afterwards.
@discardableResult
func withReader<T: Sendable>(_ reader: VideoReader, _ body: (VideoReader) async throws -> T) async throws -> T {
    do {
        let result = try await body(reader)
        await reader.shutdown()
        return result
    } catch {
        await reader.shutdown()
        throw error
    }
}

/// The bytes a cached file range points at, read from its descriptor (fewer if the read fell short).
func bytesIn(_ range: CachedFileRange) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: range.length)
    let n = bytes.withUnsafeMutableBytes { pread(range.descriptor, $0.baseAddress, range.length, off_t(range.offset)) }
    return Array(bytes.prefix(max(n, 0)))
}

/// Reads the whole video front to back in `chunk`-sized reads.
func readSequentially(_ reader: VideoReader, _ video: Video, chunk: Int = 100_000) async throws -> [UInt8] {
    var bytes: [UInt8] = []
    let size = Int(video.size ?? 0)
    bytes.reserveCapacity(size)
    while bytes.count < size {
        let piece = try await reader.read(video, offset: UInt64(bytes.count), size: chunk)
        guard !piece.isEmpty else { break }
        bytes += piece
    }
    return bytes
}

/// The error `operation` throws, recording an issue when it returns instead.
func readError(_ operation: () async throws -> [UInt8], sourceLocation: SourceLocation = #_sourceLocation) async -> (any Error)? {
    do {
        let bytes = try await operation()
        Issue.record("expected an error, got \(bytes.count) bytes", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// A deterministic generator for random offsets and sizes.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state ^ (state >> 29)
    }
}

/// The data files of a cache folder and the disk space they take.
func cacheDataFiles(_ directory: String) -> [(path: String, allocated: Int64)] {
    let root = (directory as NSString).appendingPathComponent("v1")
    guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
    var found: [(String, Int64)] = []
    while let name = walker.nextObject() as? String {
        guard name.hasSuffix(".data") else { continue }
        let path = (root as NSString).appendingPathComponent(name)
        found.append((path, CacheFiles.allocatedBytes(path)))
    }
    return found
}

func cacheRecordFiles(_ directory: String) -> [String] {
    let root = (directory as NSString).appendingPathComponent("v1")
    guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
    var found: [String] = []
    while let name = walker.nextObject() as? String {
        guard name.hasSuffix(".blocks") else { continue }
        found.append((root as NSString).appendingPathComponent(name))
    }
    return found
}
