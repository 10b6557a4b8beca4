import Foundation
import Glibc
import MaviAPI
@testable import MaviLibrary
import MaviServer
import Synchronization
import TestSupport
import Testing

/// The block cache behind a real mount outlives the server, the mount and a killed process, and
/// stays under its cap.
@Suite("The cache behind a real mount", .serialized, .timeLimit(.minutes(5)))
struct MountedCacheLifetimeTests {
    @Test("a second read after the server stopped is served from the cache")
    func servedFromCacheWithoutServer() async throws {
        try await CachedLibrary.with(sizes: [4_000_000], rangeRequests: true) { library in
            let video = library.videos[0]
            let expected = try await library.sourceDigest(video)
            try await library.mount { mounted in
                let path = mounted.path(video)
                let first = try await sha256(path)
                #expect(first == expected)
                await library.server.shutdown()
                // The kernel keeps the pages it read; without them the next read reaches the mount.
                try await blocking { try FileReads.dropPageCache(path) }
                let before = mounted.reader.stats().bytesFromCache
                let second = try await sha256(path)
                #expect(second == expected)
                let fromCache = mounted.reader.stats().bytesFromCache - before
                #expect(fromCache >= Int64(video.size!), "the second read came from the cache, \(fromCache) bytes")
            }
            #expect(library.downloads(video) == 0, "the server honours Range: no download")
        }
    }

    @Test("a remount reads the whole video from the cache, without a request", arguments: [true, false])
    func remountKeepsTheCache(rangeRequests: Bool) async throws {
        try await CachedLibrary.with(sizes: [5_000_000], rangeRequests: rangeRequests) { library in
            let video = library.videos[0]
            let expected = try await library.sourceDigest(video)
            #expect(try await library.digestThroughMount(video) == expected)
            let fileRequests = library.fileRequests(video)
            try await library.mount { mounted in
                #expect(mounted.reader.stats().completeFiles == 1)
                let digest = try await sha256(mounted.path(video))
                #expect(digest == expected)
                let stats = mounted.reader.stats()
                #expect(stats.bytesFromCache == Int64(video.size!))
                #expect(stats.downloadsStarted == 0 && stats.rangeRequests == 0)
            }
            #expect(library.downloads(video) == (rangeRequests ? 0 : 1), "Range first: no download where Range is honoured")
            #expect(library.fileRequests(video) == fileRequests)
        }
    }

    @Test("SIGKILL of the mount mid-download, then a remount gives the right bytes and keeps the finished blocks")
    func sigkillMidDownload() async throws {
        let binary = try MavifsBinary.path()
        try await CachedLibrary.with(sizes: [6_000_000], rangeRequests: false) { library in
            let video = library.videos[0]
            let expected = try await library.sourceDigest(video)
            // The download stops sending after 3.5 MB and holds the connection open: the process is
            // surely in the middle of it when it dies.
            library.server.setFaults(FaultSettings(stallAfterBytes: 3_500_000, stallCount: 1, endpoints: [.download]))
            let mountpoint = library.work.appending("killed-mount")
            try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
            let child = try ChildProcess.spawn(
                [binary, "mount", mountpoint, "-f", "--endpoint", library.running.baseURL, "--no-pacing",
                 "--cache-dir", library.cacheDirectory, "--cache-block-size", "256K", "--cache-flush-interval", "0.2"],
                environment: ["MAVI_API_KEY": library.running.apiKey],
                log: library.work.appending("killed-mount.log"))
            do {
                try await waitUntil("the child's mount", timeout: 60) { isMounted(mountpoint) }
                // A reader in another process starts the download and waits at the stall.
                let cat = Task { try await run(["cat", mountpoint + "/by-id/\(video.videoNo).mp4"], timeout: 90) }
                try await waitUntil("a durable record naming ten blocks", timeout: 60) {
                    let record = Self.recordFiles(library.cacheDirectory).first.flatMap(CacheFiles.readRecord(at:))
                    return (record?.present.setCount ?? 0) >= 10
                }
                try await blocking("the killed mount to exit") { try child.killAndReap(signal: SIGKILL) }
                #expect(child.status.map { $0 & 0x7f } == SIGKILL)
                let stale = try await run(["fusermount3", "-u", "-z", mountpoint], timeout: 20)
                #expect(stale.succeeded, "\(stale.stderr)")
                let interrupted = try await cat.value
                #expect(!interrupted.succeeded, "the read through the killed mount failed rather than ending short")
            } catch {
                try? await blocking("the mount to exit") { child.kill() }
                _ = try? await run(["fusermount3", "-u", "-z", mountpoint], timeout: 20)
                throw error
            }

            library.server.setFaults(FaultSettings())
            try await library.mount { mounted in
                let loaded = mounted.reader.stats()
                #expect(loaded.bytesCached >= 10 * 256 * 1024, "the blocks the killed process completed are used")
                #expect(loaded.completeFiles == 0)
                let digest = try await sha256(mounted.path(video))
                #expect(digest == expected)
            }
            #expect(library.downloads(video) == 2, "one download killed, one to finish")
        }
    }

    static func recordFiles(_ cache: String) -> [String] {
        let root = cache + "/v1"
        let names = FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []
        return names.filter { $0.hasSuffix(".blocks") }.map { root + "/" + $0 }
    }

    @Test("the cap holds while reading more than it, one video larger than the cap included", arguments: [true, false])
    func capHolds(rangeRequests: Bool) async throws {
        let cap: Int64 = 2 << 20
        try await CachedLibrary.with(sizes: [1_500_000, 1_600_000, 3_000_000], rangeRequests: rangeRequests) { library in
            try await library.mount(maxBytes: cap) { mounted in
                let sampler = DiskSampler(directory: library.cacheDirectory, reader: mounted.reader)
                let sampling = Task { try await sampler.run() }
                for video in library.videos {
                    let expected = try await library.sourceDigest(video)
                    let digest = try await sha256(mounted.path(video))
                    #expect(digest == expected, "video \(video.videoNo)")
                }
                sampler.stop()
                let peak = try await sampling.value
                // ext4 allocates whole 4 KiB blocks: a little slack per cache file.
                #expect(peak.onDisk <= cap + 3 * 16 * 1024, "at most \(cap) bytes on disk, saw \(peak.onDisk)")
                #expect(peak.accounted <= cap, "at most \(cap) bytes accounted, saw \(peak.accounted)")
                #expect(peak.samples > 10)
                #expect(mounted.reader.stats().bytesEvicted > 0)
            }
            for video in library.videos {
                #expect(library.downloads(video) == (rangeRequests ? 0 : 1), "video \(video.videoNo)")
            }
        }
    }
}

/// Watches the disk space of a cache's data files, and what the cache counts against its cap,
/// from a thread of its own until stopped.
final class DiskSampler: Sendable {
    struct Peak: Sendable {
        var onDisk: Int64 = 0
        var accounted: Int64 = 0
        var samples = 0
    }

    let directory: String
    let reader: VideoReader
    private let stopped = Atomic<Bool>(false)

    init(directory: String, reader: VideoReader) {
        self.directory = directory
        self.reader = reader
    }

    func stop() { stopped.store(true, ordering: .relaxed) }

    func run() async throws -> Peak {
        try await blocking("sampling the cache", timeout: 240) { [self] in
            var peak = Peak()
            while !stopped.load(ordering: .relaxed) {
                peak.onDisk = max(peak.onDisk, allocated())
                peak.accounted = max(peak.accounted, reader.stats().bytesUsed)
                peak.samples += 1
                usleep(5_000)
            }
            return peak
        }
    }

    private func allocated() -> Int64 {
        let root = directory + "/v1"
        let names = FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []
        return names.filter { $0.hasSuffix(".data") }.reduce(0) { total, name in
            var info = stat()
            return stat(root + "/" + name, &info) == 0 ? total + Int64(info.st_blocks) * 512 : total
        }
    }
}

/// The `mavifs` executable `swift build` made next to this test bundle.
enum MavifsBinary {
    struct NotBuilt: Error, CustomStringConvertible {
        let looked: String
        var description: String { "no mavifs binary at \(looked) (run `swift build --build-tests` first)" }
    }

    static func path() throws -> String {
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let candidate = products.appendingPathComponent("mavifs").path
        guard FileManager.default.isExecutableFile(atPath: candidate) else { throw NotBuilt(looked: candidate) }
        return candidate
    }
}

/// A child process that runs until killed (a mount in the foreground), its output in a log file.
final class ChildProcess: Sendable {
    let pid: pid_t
    private let reaped = Mutex<Int32?>(nil)

    private init(pid: pid_t) { self.pid = pid }

    /// The wait status once reaped.
    var status: Int32? { reaped.withLock { $0 } }

    static func spawn(_ arguments: [String], environment: [String: String], log: String) throws -> ChildProcess {
        ChildProcess(pid: try spawnChild(arguments, environment: environment, stdout: log, append: true))
    }

    /// Sends `signal` and waits (at most ten seconds) for the process to exit.
    func killAndReap(signal: Int32) throws {
        guard status == nil else { return }
        Glibc.kill(pid, signal)
        let deadline = Date().addingTimeInterval(10)
        var status: Int32 = 0
        while Date() < deadline {
            if waitpid(pid, &status, WNOHANG) == pid {
                reaped.withLock { $0 = status }
                return
            }
            usleep(10_000)
        }
        throw ReadFailure(call: "waiting for process \(pid) to exit", errno: ETIMEDOUT)
    }

    /// Kills and reaps the process if it still runs.
    func kill() {
        try? killAndReap(signal: SIGKILL)
    }
}
