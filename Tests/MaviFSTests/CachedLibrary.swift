import FUSE
import Foundation
import Glibc
import Logging
import MaviAPI
import MaviClient
import MaviFS
import MaviLibrary
import MaviServer
import TestSupport
import Testing

/// A local server holding videos of pseudo-random bytes (each its own bytes and size), and a cache
/// folder that outlives mounts, so that a test can mount, unmount and mount again on the same cache.
struct CachedLibrary: Sendable {
    let running: RunningLibraryServer
    let client: MaviClient
    /// The videos as the listing describes them, in the order of `sizes`.
    let videos: [Video]
    /// video_no → the file the server serves for it.
    let sourcePaths: [String: String]
    let cacheDirectory: String
    let work: TemporaryDirectory

    var server: LibraryServer { running.server }

    /// The bytes of a video's source file.
    func source(_ video: Video) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: sourcePaths[video.videoNo]!)))
    }

    /// SHA-256 of a video's source file, by `sha256sum`.
    func sourceDigest(_ video: Video) async throws -> String {
        try await sha256(sourcePaths[video.videoNo]!)
    }

    /// Download streams of a video that reached the server (`/_admin/stats` counts the same).
    func downloads(_ video: Video) -> Int { server.stats().downloads[video.videoNo] ?? 0 }
    /// Requests of the video's file URL (ranged or not) that reached the server.
    func fileRequests(_ video: Video) -> Int { server.stats().fileRequests[video.videoNo] ?? 0 }

    /// Runs `body` against a fresh server that honours Range or not, holding one video per size,
    /// with an empty cache folder; everything is removed afterwards.
    static func with<T: Sendable>(
        sizes: [Int], rangeRequests: Bool, _ body: (CachedLibrary) async throws -> T
    ) async throws -> T {
        let work = try TemporaryDirectory(prefix: "mavifs-reads")
        defer { work.remove() }
        return try await ServerHarness.withServer(configure: { $0.rangeRequests = rangeRequests }) { running in
            var paths: [String: String] = [:]
            var order: [String] = []
            for (i, size) in sizes.enumerated() {
                let path = work.appending("source-\(i).mp4")
                try VideoFixtures.makeNonVideo(at: path, count: size, seed: UInt64(1000 + i))
                let numbers = try await running.server.seedVideos(count: 1, namespace: APILimits.defaultNamespace, sourceFile: path)
                paths[numbers[0]] = path
                order.append(numbers[0])
            }
            // Patient timeouts and few retries: a retried download would count twice on the server.
            let client = MaviClient(
                configuration: ClientConfiguration(
                    endpoint: URL(string: running.baseURL)!, apiKey: try APIKey(running.apiKey),
                    timeouts: Timeouts(connect: .seconds(5), request: .seconds(20), idleRead: .seconds(10), connectionIdle: .seconds(60)),
                    pacing: .unlimited),
                logger: testLogger("mavifs.client.test"))
            do {
                let listed = try await client.allVideos(filter: VideoFilter(videoNos: order))
                let byNumber = Dictionary(uniqueKeysWithValues: listed.map { ($0.videoNo, $0) })
                let library = CachedLibrary(
                    running: running, client: client, videos: order.compactMap { byNumber[$0] }, sourcePaths: paths,
                    cacheDirectory: work.appending("cache"), work: work)
                try #require(library.videos.count == sizes.count)
                let result = try await body(library)
                try? await client.shutdown()
                return result
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
    }

    /// The cache as a test configures it: small blocks so that a few megabytes span many.
    static func configuration(
        directory: String, blockSize: Int = 256 << 10, maxBytes: Int64? = 256 << 20, readTimeout: Duration = .seconds(30)
    ) -> CacheConfiguration {
        CacheConfiguration(
            directory: directory, maxBytes: maxBytes, blockSize: blockSize, readTimeout: readTimeout,
            downloadRetryDelay: .milliseconds(50), flushInterval: .milliseconds(500))
    }

    /// Mounts the library in this process as `mavifs mount` does (spliced replies, 1 MiB reads),
    /// reading through a cache on `cacheDirectory`, and always
    /// unmounts and shuts the cache down (making its records durable), whether `body` returns or throws.
    func mount<T: Sendable>(
        blockSize: Int = 256 << 10, maxBytes: Int64? = 256 << 20, maxReadAhead: Int? = nil, _ body: (MountedCache) async throws -> T
    ) async throws -> T {
        let logger = testLogger("mavifs.test.reads")
        var configuration = Self.configuration(directory: cacheDirectory, blockSize: blockSize, maxBytes: maxBytes)
        if let maxReadAhead { configuration.maxReadAhead = maxReadAhead }
        let reader = try VideoReader(client: client, namespace: APILimits.defaultNamespace, configuration: configuration, logger: logger)
        let fs = MaviFileSystem(
            catalog: VideoCatalog(source: client, ttl: .seconds(300), logger: logger), content: reader,
            options: MaviFSOptions(), logger: logger)
        do {
            let result = try await withMount(fs, options: MountOptions(fsName: "mavifs-test", subtype: "mavifs", maxRead: 1 << 20, spliceReplies: true)) { mnt, session in
                fs.attach(session)
                return try await body(MountedCache(mountpoint: mnt, reader: reader))
            }
            await reader.shutdown()
            return result
        } catch {
            await reader.shutdown()
            throw error
        }
    }
}

/// A mounted library and the cache it reads through.
extension CachedLibrary {
    /// Mounts, reads `video` whole through the kernel, unmounts, and returns what was read's SHA-256.
    func digestThroughMount(_ video: Video) async throws -> String {
        try await mount { try await sha256($0.path(video)) }
    }
}

struct MountedCache: Sendable {
    let mountpoint: String
    let reader: VideoReader

    /// The video's stable path in the mount.
    func path(_ video: Video) -> String { mountpoint + "/by-id/" + video.videoNo + ".mp4" }
}

func testLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    let level = ProcessInfo.processInfo.environment["MAVIFS_TEST_LOG"].flatMap(Logger.Level.init(rawValue:))
    logger.logLevel = level ?? .warning
    return logger
}

/// SHA-256 of a file as `sha256sum` computes it, read through whatever the path is on.
func sha256(_ path: String) async throws -> String {
    let result = try await run(["sha256sum", path], timeout: 120)
    guard result.succeeded, let digest = result.stdout.split(separator: " ").first else {
        throw ReadFailure(call: "sha256sum \(path)", errno: 0, detail: result.stderr)
    }
    return String(digest)
}

struct ReadFailure: Error, CustomStringConvertible {
    let call: String
    let errno: Int32
    var detail = ""
    var description: String { "\(call): \(errno == 0 ? detail : String(cString: strerror(errno)))" }
}

/// Reads through the kernel with ordinary syscalls. They block, so tests call them in `blocking {}`.
enum FileReads {
    /// `count` bytes at `offset` (fewer only at the end of the file), by `pread` on an open descriptor.
    static func pread(_ fd: Int32, offset: Int, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadFailure(call: "pread at \(offset + done)", errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        return Array(out.prefix(done))
    }

    static func open(_ path: String) throws -> Int32 {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReadFailure(call: "open \(path)", errno: errno) }
        return fd
    }

    /// The whole file, front to back in `chunk`-sized `read` calls.
    static func readAll(_ path: String, chunk: Int = 1 << 20) throws -> [UInt8] {
        let fd = try open(path)
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, chunk) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadFailure(call: "read at \(bytes.count)", errno: errno)
            }
            if n == 0 { return bytes }
            bytes += buffer[0..<n]
        }
    }

    /// Asks the kernel to drop its cached pages of the file, so that the next read reaches the
    /// file system (a mount keeps pages across opens).
    static func dropPageCache(_ path: String) throws {
        let fd = try open(path)
        defer { close(fd) }
        let code = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
        guard code == 0 else { throw ReadFailure(call: "posix_fadvise \(path)", errno: code) }
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
