import Foundation
import Glibc

/// How the block cache stores videos and how patiently reads wait for their bytes.
public struct CacheConfiguration: Sendable {
    /// The cache's root folder; `v1/` below it holds the cache files.
    public var directory: String
    /// A hard cap on the bytes of cached video data; `nil` picks a fraction of the free space of
    /// the cache's file system when the reader starts (``defaultMaxBytes(directory:)``).
    public var maxBytes: Int64?
    /// The unit of caching, eviction and ranged fetching (1–8 MiB suits video files).
    public var blockSize: Int
    /// How long one read may wait for its bytes before it fails with `ETIMEDOUT`.
    public var readTimeout: Duration
    /// Allow ranged reads from a video's `video_url` (or bucket/blob) once the source has proven
    /// that it honours `Range`.
    public var useRanges: Bool

    /// Attempts of one video's download stream (the endpoint restarts at byte 0 each time) before
    /// reads waiting for it fail with `EIO`.
    public var downloadAttempts: Int
    /// The pause before a cut download is tried again; doubled for each further attempt.
    public var downloadRetryDelay: Duration
    /// After a download gave up, reads that need its bytes fail at once for this long instead of
    /// starting another download (the service allows 12 downloads a minute).
    public var failureCooldown: Duration
    /// Downloads nobody waits on any more (every handle closed) that are kept going to the end.
    /// See `StreamPolicy` for why they are kept at all.
    public var maxBackgroundDownloads: Int
    /// Ranged requests in flight at once, over all videos (three quarters of them at most for
    /// read-ahead). Each runs on a connection of its own: over a long link, or where a CDN caps
    /// each connection, they add up.
    public var maxConcurrentRangeFetches: Int
    /// The largest read-ahead of one ranged reader; the window starts at one block and doubles
    /// while a reader keeps reading sequentially.
    public var maxReadAhead: Int
    /// The largest single ranged request (whole blocks, at least one). A read-ahead window is cut
    /// into requests of this size that run side by side, so that one connection's rate (a TCP
    /// flow over a long link, or a per-connection cap) does not cap the read.
    public var maxRangeRequest: Int
    /// Bytes of read buffers in flight at once, over all reads (reads beyond it wait their turn).
    public var maxInFlightReadBytes: Int
    /// How often changed block records are made durable while streams run (they are also on the
    /// last close of a video, at the end of each stream and at shutdown). Each flush syncs the
    /// data first, which competes with the writes of a fast download: too often slows it down,
    /// too rarely re-downloads more after a crash.
    public var flushInterval: Duration

    public init(
        directory: String = CacheConfiguration.defaultDirectory(),
        maxBytes: Int64? = nil,
        blockSize: Int = 4 << 20,
        readTimeout: Duration = .seconds(30),
        useRanges: Bool = true,
        downloadAttempts: Int = 4,
        downloadRetryDelay: Duration = .seconds(1),
        failureCooldown: Duration = .seconds(30),
        maxBackgroundDownloads: Int = 2,
        maxConcurrentRangeFetches: Int = CacheConfiguration.defaultRangeFetches,
        maxReadAhead: Int = CacheConfiguration.defaultMaxReadAhead,
        maxRangeRequest: Int = 8 << 20,
        maxInFlightReadBytes: Int = 64 << 20,
        flushInterval: Duration = .seconds(10)
    ) {
        self.directory = directory
        self.maxBytes = maxBytes
        self.blockSize = blockSize
        self.readTimeout = readTimeout
        self.useRanges = useRanges
        self.downloadAttempts = downloadAttempts
        self.downloadRetryDelay = downloadRetryDelay
        self.failureCooldown = failureCooldown
        self.maxBackgroundDownloads = maxBackgroundDownloads
        self.maxConcurrentRangeFetches = maxConcurrentRangeFetches
        self.maxReadAhead = maxReadAhead
        self.maxRangeRequest = maxRangeRequest
        self.maxInFlightReadBytes = maxInFlightReadBytes
        self.flushInterval = flushInterval
    }

    /// Enough requests side by side to fill a 50 MB/s link whose connections are capped at 3 MB/s
    /// each (a long route, or a CDN's per-connection limit), with room for reads that jump.
    public static let defaultRangeFetches = 24
    /// Read-ahead is written to the cache file, not held in memory: it may run as far ahead as the
    /// link needs to keep all its requests busy (at 50 MB/s and 1.5 s a request, about 75 MB).
    public static let defaultMaxReadAhead = 128 << 20

    /// `$XDG_CACHE_HOME/mavifs`, else `~/.cache/mavifs`.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            return (xdg as NSString).appendingPathComponent("mavifs")
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".cache/mavifs")
    }

    /// A quarter of the space free for `directory`'s file system (at least 256 MiB, at most
    /// 100 GiB): large enough to hold several videos, small enough to leave the disk usable.
    public static func defaultMaxBytes(directory: String) -> Int64 {
        var info = statvfs()
        var probe = directory
        // The folder may not exist yet: ask about its closest existing ancestor.
        while statvfs(probe, &info) != 0 {
            let parent = (probe as NSString).deletingLastPathComponent
            if parent == probe || parent.isEmpty { return 1 << 30 }
            probe = parent
        }
        let free = Int64(info.f_bavail) * Int64(info.f_frsize)
        return min(max(free / 4, 256 << 20), 100 << 30)
    }

    /// The block size clamped to 64 KiB … 64 MiB (tests use small blocks; videos want 1–8 MiB).
    var effectiveBlockSize: Int { min(max(blockSize, 64 << 10), 64 << 20) }

    /// The cap, never below two blocks so that a stream and a reader can always make progress.
    func effectiveMaxBytes() -> Int64 {
        let cap = maxBytes ?? Self.defaultMaxBytes(directory: directory)
        return max(cap, 2 * Int64(effectiveBlockSize))
    }
}
