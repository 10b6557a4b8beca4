import Foundation
import Glibc
import MaviLibrary

/// What a running mount publishes about itself for `mavifs status`: a small JSON file, rewritten
/// every couple of seconds and when the mount ends, readable by its owner only. It never holds the
/// API key (the endpoint is shown without any user or password it may carry).
struct MountStatus: Codable, Sendable, Equatable {
    enum State: String, Codable, Sendable {
        case mounted
        case stopped
    }

    var state: State
    var pid: Int32
    var mountpoint: String
    var endpoint: String
    var namespace: String
    var allowDelete: Bool
    var listTTLSeconds: Int
    var startedAt: Date
    var updatedAt: Date
    /// `http://HOST:PORT/metrics`, when metrics are served.
    var metricsURL: String?
    var logFile: String?
    /// The signal that makes the mount rewrite this file at once (`mavifs status` sends it, so it
    /// shows what just happened). Absent in files of mounts that do not handle it.
    var refreshSignal: String?

    /// Videos in the full listing last fetched (nil before the first).
    var videos: Int?
    var listingAgeSeconds: Double?
    var listingStale: Bool
    /// The listing shown is the one a previous mount stored; its first refresh has not landed.
    var listingStored: Bool?
    /// How the full listing has been kept up to date (absent in older files).
    var listingRefreshes: Refreshes?

    var cache: Cache
    var downloads: [Download]
    /// `rm` on the mount: deletes recorded and where they are (absent in older files).
    var deletes: Deletes?
    /// Desktop thumbnails written since the mount started; absent when they are turned off.
    var thumbnails: Thumbnails? = nil
    var recentEvents: [RecentEvents.Event]

    struct Thumbnails: Codable, Sendable, Equatable {
        var written: Int
        /// Found current in the thumbnail cache (made by an earlier mount) and left as they were.
        var current: Int
        var failed: Int
    }

    struct Refreshes: Codable, Sendable, Equatable {
        /// Refreshes that read only what changed (pages from the top, ids of videos processing).
        var incremental: Int
        /// Refreshes that fetched every page.
        var whole: Int
        /// `list_videos` calls the last refresh made.
        var lastCalls: Int
        var lastWholeReason: String?
    }

    struct Deletes: Codable, Sendable, Equatable {
        /// Recorded in the journal, not yet confirmed by the server.
        var pending: Int
        var confirmed: Int
        var refused: Int
        var calls: Int
        /// Found in the journal at start (recorded by an earlier mount), sent again.
        var replayed: Int
        var retrying: Bool
        var lastError: String?
        var refusals: [Refusal]

        struct Refusal: Codable, Sendable, Equatable {
            var videoNos: [String]
            var reason: String
        }
    }

    struct Cache: Codable, Sendable, Equatable {
        var directory: String
        var bytesCached: Int64
        var bytesUsed: Int64
        var maxBytes: Int64
        var files: Int
        var completeFiles: Int
        var bytesFromCache: Int64
        var bytesFromNetwork: Int64
        var bytesDownloaded: Int64
        var hitRatio: Double
    }

    struct Download: Codable, Sendable, Equatable {
        var videoNo: String
        var name: String?
        var received: Int64
        var size: Int64
        var attempt: Int
        var background: Bool
    }

    /// Snake case in the file; the acronyms are spelled so that the key strategies below turn
    /// them into `list_ttl_seconds` and `metrics_url` and back.
    enum CodingKeys: String, CodingKey {
        case state, pid, mountpoint, endpoint, namespace, allowDelete, startedAt, updatedAt, logFile, refreshSignal, videos
        case listTTLSeconds = "listTtlSeconds"
        case metricsURL = "metricsUrl"
        case listingAgeSeconds, listingStale, listingStored, listingRefreshes, cache, downloads, deletes, thumbnails, recentEvents
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}

/// Where status files live: `$XDG_RUNTIME_DIR/mavifs/` when there is a runtime directory (gone at
/// logout, like the mounts), else `$XDG_STATE_HOME/mavifs/status/` (~/.local/state/mavifs/status).
/// One file per mount point, named like systemd-escape --path names it.
enum MountStatusFiles {
    static func directory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty {
            return runtime + "/mavifs"
        }
        let state = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.local/state")
        return state + "/mavifs/status"
    }

    static func path(forMountpoint mountpoint: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        directory(environment: environment) + "/" + escape(mountpoint) + ".json"
    }

    /// `/home/me/my videos` → `home-me-my\x20videos`, as `systemd-escape --path` writes it.
    static func escape(_ path: String) -> String {
        let trimmed = path.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
        if trimmed.isEmpty { return "-" }
        var out = ""
        for (index, byte) in trimmed.utf8.enumerated() {
            switch byte {
            case UInt8(ascii: "/"):
                out.append("-")
            case UInt8(ascii: ".") where index == 0:
                out += "\\x2e"
            case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"),
                 UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                out.append(Character(UnicodeScalar(byte)))
            default:
                out += String(format: "\\x%02x", byte)
            }
        }
        return out
    }

    /// Writes the file whole (a temporary file renamed over it), mode 0600, in a 0700 folder.
    static func write(_ status: MountStatus, to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let data = try MountStatus.encoder.encode(status)
        let temporary = path + ".\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        let written = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == data.count, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
    }

    static func read(_ path: String) throws -> MountStatus {
        try MountStatus.decoder.decode(MountStatus.self, from: Data(contentsOf: URL(fileURLWithPath: path, isDirectory: false)))
    }

    /// Every status file, by path.
    static func all(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        let directory = directory(environment: environment)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().map { directory + "/" + $0 }
    }
}

extension MountStatus.Deletes {
    init(_ stats: DeleteQueue.Stats) {
        self.init(
            pending: stats.pending, confirmed: stats.confirmed, refused: stats.refused, calls: stats.calls, replayed: stats.replayed,
            retrying: stats.retrying, lastError: stats.lastError,
            refusals: stats.refusals.map { Refusal(videoNos: $0.videoNos, reason: $0.reason) })
    }
}
