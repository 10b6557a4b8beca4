import Foundation
import Glibc

/// What a cache folder holds, read from its records without opening it for use (so it works
/// while a mount is using the cache).
public struct CacheSummary: Sendable, Equatable {
    public var directory: String
    /// Bytes of complete blocks the records name.
    public var bytesCached: Int64
    /// Disk space the data files take.
    public var bytesOnDisk: Int64
    public var files: Int
    public var completeFiles: Int
    /// Bytes read since the cache was created: from the cache, and after waiting for the network.
    public var lifetimeTraffic: CacheTraffic
    /// A mavifs process holds the cache right now.
    public var inUse: Bool

    public var hitRatio: Double { lifetimeTraffic.hitRatio }
}

/// Bytes read through the cache, summed over every process that used it.
public struct CacheTraffic: Codable, Sendable, Equatable {
    public var bytesFromCache: Int64 = 0
    public var bytesFromNetwork: Int64 = 0
    public var bytesDownloaded: Int64 = 0

    public init(bytesFromCache: Int64 = 0, bytesFromNetwork: Int64 = 0, bytesDownloaded: Int64 = 0) {
        self.bytesFromCache = bytesFromCache
        self.bytesFromNetwork = bytesFromNetwork
        self.bytesDownloaded = bytesDownloaded
    }

    public var hitRatio: Double {
        let total = bytesFromCache + bytesFromNetwork
        return total == 0 ? 1 : Double(bytesFromCache) / Double(total)
    }

    enum CodingKeys: String, CodingKey {
        case bytesFromCache = "bytes_from_cache", bytesFromNetwork = "bytes_from_network", bytesDownloaded = "bytes_downloaded"
    }

    static func + (a: CacheTraffic, b: CacheTraffic) -> CacheTraffic {
        CacheTraffic(
            bytesFromCache: a.bytesFromCache + b.bytesFromCache, bytesFromNetwork: a.bytesFromNetwork + b.bytesFromNetwork,
            bytesDownloaded: a.bytesDownloaded + b.bytesDownloaded)
    }

    static func load(_ layout: CacheLayout) -> CacheTraffic {
        guard let data = FileManager.default.contents(atPath: layout.trafficFile) else { return CacheTraffic() }
        return (try? JSONDecoder().decode(CacheTraffic.self, from: data)) ?? CacheTraffic()
    }

    /// Written whole through a rename, so a reader never sees half a file.
    func save(_ layout: CacheLayout) {
        guard let data = try? JSONEncoder().encode(self) else { return }
        let temporary = layout.trafficFile + CacheLayout.temporarySuffix
        guard FileManager.default.createFile(atPath: temporary, contents: data) else { return }
        rename(temporary, layout.trafficFile)
    }
}

/// Inspecting and clearing a cache folder from another command than the one using it.
public enum CacheMaintenance {
    public static func summary(directory: String) -> CacheSummary {
        let layout = CacheLayout(directory: directory)
        let records = CacheScanner.scan(layout, blockSize: nil, cleanUp: false)
        var summary = CacheSummary(
            directory: layout.root, bytesCached: 0, bytesOnDisk: 0, files: records.count, completeFiles: 0,
            lifetimeTraffic: CacheTraffic.load(layout), inUse: isInUse(layout))
        for record in records {
            let geometry = record.geometry
            var cached: Int64 = 0
            for block in 0..<record.present.count where record.present[block] { cached += geometry.length(of: block) }
            summary.bytesCached += cached
            if record.present.setCount == record.present.count { summary.completeFiles += 1 }
            summary.bytesOnDisk += CacheFiles.allocatedBytes(layout.dataFile(record.key))
        }
        return summary
    }

    /// Removes every cached file. Throws ``CacheDirectoryError/inUse(path:)`` while a mavifs
    /// process uses the cache (its records would no longer match).
    public static func clear(directory: String) throws {
        let layout = CacheLayout(directory: directory)
        guard FileManager.default.fileExists(atPath: layout.root) else { return }
        let lock = try CacheDirectoryLock(layout: layout)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: layout.root)) ?? []
        for name in entries where name != (layout.lockFile as NSString).lastPathComponent {
            try FileManager.default.removeItem(atPath: (layout.root as NSString).appendingPathComponent(name))
        }
        withExtendedLifetime(lock) {}
    }

    private static func isInUse(_ layout: CacheLayout) -> Bool {
        let fd = open(layout.lockFile, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return true
    }
}
