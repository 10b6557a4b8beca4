/// A snapshot of the cache and its traffic since the reader started.
public struct CacheStats: Sendable, Equatable {
    /// Bytes of complete blocks on disk.
    public var bytesCached: Int64
    /// Bytes counted against the cap: complete blocks, blocks being written, blocks being evicted.
    public var bytesUsed: Int64
    public var maxBytes: Int64
    /// Cached videos (with at least one complete block), and those complete.
    public var files: Int
    public var completeFiles: Int
    /// Bytes read that were cached when asked for.
    public var bytesFromCache: Int64
    /// Bytes read that had to wait for the network.
    public var bytesFromNetwork: Int64
    /// Bytes written by download streams and by ranged fetches.
    public var bytesDownloaded: Int64
    public var bytesFetchedByRange: Int64
    public var bytesEvicted: Int64
    public var downloadsStarted: Int
    public var rangeRequests: Int
    public var downloadsInFlight: [DownloadProgress]

    /// Share of bytes read that were served from the cache (1 when nothing was read).
    public var hitRatio: Double {
        let total = bytesFromCache + bytesFromNetwork
        return total == 0 ? 1 : Double(bytesFromCache) / Double(total)
    }

    public init(
        bytesCached: Int64 = 0, bytesUsed: Int64 = 0, maxBytes: Int64 = 0, files: Int = 0, completeFiles: Int = 0,
        bytesFromCache: Int64 = 0, bytesFromNetwork: Int64 = 0, bytesDownloaded: Int64 = 0, bytesFetchedByRange: Int64 = 0,
        bytesEvicted: Int64 = 0, downloadsStarted: Int = 0, rangeRequests: Int = 0, downloadsInFlight: [DownloadProgress] = []
    ) {
        self.bytesCached = bytesCached
        self.bytesUsed = bytesUsed
        self.maxBytes = maxBytes
        self.files = files
        self.completeFiles = completeFiles
        self.bytesFromCache = bytesFromCache
        self.bytesFromNetwork = bytesFromNetwork
        self.bytesDownloaded = bytesDownloaded
        self.bytesFetchedByRange = bytesFetchedByRange
        self.bytesEvicted = bytesEvicted
        self.downloadsStarted = downloadsStarted
        self.rangeRequests = rangeRequests
        self.downloadsInFlight = downloadsInFlight
    }
}

/// One download stream in flight.
public struct DownloadProgress: Sendable, Equatable {
    public var namespace: String
    public var videoNo: String
    /// Bytes of the current attempt received (the endpoint restarts at byte 0 on each attempt).
    public var received: Int64
    public var size: Int64
    public var attempt: Int
    /// Kept going after every handle closed.
    public var background: Bool
}

extension CacheState {
    func stats() -> CacheStats {
        var stats = CacheStats(bytesUsed: usedBytes, maxBytes: maxBytes)
        for entry in entries.values {
            if entry.presentCount > 0 { stats.files += 1 }
            if entry.isComplete, entry.presentCount > 0 { stats.completeFiles += 1 }
            if let stream = entry.stream {
                stats.downloadsInFlight.append(DownloadProgress(
                    namespace: entry.key.namespace, videoNo: entry.key.videoNo, received: stream.position,
                    size: entry.key.size, attempt: stream.attempt, background: stream.background))
            }
        }
        stats.bytesCached = totalPresentBytes
        stats.bytesFromCache = counters.bytesFromCache
        stats.bytesFromNetwork = counters.bytesAfterWaiting
        stats.bytesDownloaded = counters.bytesStreamed + counters.bytesFetchedByRange
        stats.bytesFetchedByRange = counters.bytesFetchedByRange
        stats.bytesEvicted = counters.bytesEvicted
        stats.downloadsStarted = counters.downloadsStarted
        stats.rangeRequests = counters.rangeRequests
        stats.downloadsInFlight.sort { $0.videoNo < $1.videoNo }
        return stats
    }
}
