import ArgumentParser
import Foundation
import Logging
import MaviAPI
import MaviClient
import MaviLibrary
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

struct CacheCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Inspect, clear or fill the block cache of mounted videos.",
        subcommands: [CacheStatsCommand.self, CacheClearCommand.self, CacheWarmCommand.self]
    )
}

/// Where the cache is and how large it may grow; shared by the cache commands and `mount`. Each
/// option may also come from the settings file; a flag wins over the file.
struct CacheOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Cache folder. Default: $XDG_CACHE_HOME/mavifs or ~/.cache/mavifs.", valueName: "path"))
    var cacheDir: String?

    @Option(help: ArgumentHelp("Most bytes the cache may hold, e.g. 20G or 512M. Default: a quarter of the free space.", valueName: "size"))
    var cacheMaxSize: ByteSize?

    @Option(help: ArgumentHelp("The unit of caching and of ranged reads; 1M to 8M suit videos. Default: 4M.", valueName: "size"))
    var cacheBlockSize: ByteSize?

    @Option(help: ArgumentHelp(
        "How far ahead of a sequential reader ranged requests may fetch (it grows to this while the reader keeps up). Default: 128M.",
        valueName: "size"))
    var readAhead: ByteSize?

    @Option(help: ArgumentHelp(
        "Ranged requests in flight at once over all videos, each on a connection of its own: over a long link they add up. Default: 24.",
        valueName: "count"))
    var rangeRequests: Int?

    @Option(help: .hidden)
    var cacheFlushInterval: Double = 10

    static let defaultBlockSize = ByteSize(bytes: 4 << 20)
    static let defaultReadAhead = ByteSize(bytes: Int64(CacheConfiguration.defaultMaxReadAhead))
    static let rangeRequestLimits = 1...64

    func validate() throws {
        if let cacheBlockSize { try Self.checkBlockSize(cacheBlockSize, origin: "--cache-block-size") }
        if let readAhead { try Self.checkReadAhead(readAhead, origin: "--read-ahead") }
        if let rangeRequests { try Self.checkRangeRequests(rangeRequests, origin: "--range-requests") }
        guard cacheFlushInterval > 0 else { throw ValidationError("--cache-flush-interval must be positive") }
    }

    private static func checkBlockSize(_ size: ByteSize, origin: String) throws {
        guard (64 << 10...64 << 20).contains(size.bytes) else {
            throw SettingsError("cache_block_size (\(origin)) must be between 64K and 64M")
        }
    }

    private static func checkReadAhead(_ size: ByteSize, origin: String) throws {
        guard (1 << 20...4 << 30).contains(size.bytes) else {
            throw SettingsError("read_ahead (\(origin)) must be between 1M and 4G")
        }
    }

    private static func checkRangeRequests(_ count: Int, origin: String) throws {
        guard rangeRequestLimits.contains(count) else {
            throw SettingsError("range_requests (\(origin)) must be between \(rangeRequestLimits.lowerBound) and \(rangeRequestLimits.upperBound)")
        }
    }

    func directory(config: ConfigSettings) throws -> String {
        var report = SettingsReport()
        return try makeConfiguration(config: config, report: &report).directory
    }

    func makeConfiguration(config: ConfigSettings, report: inout SettingsReport) throws -> CacheConfiguration {
        let directory = try report.pick("cache_dir", flag: cacheDir, config: config, read: config.path, default: CacheConfiguration.defaultDirectory())
        let maxSize = try report.pickOptional(
            "cache_max_size", flag: cacheMaxSize, config: config, read: config.size, none: "a quarter of the free space",
            describe: \.defaultValueDescription)
        let blockSize = try report.pick(
            "cache_block_size", flag: cacheBlockSize, config: config, read: config.size, default: Self.defaultBlockSize,
            describe: \.defaultValueDescription)
        try Self.checkBlockSize(blockSize, origin: config.origin("cache_block_size") ?? "--cache-block-size")
        let readAhead = try report.pick(
            "read_ahead", flag: readAhead, config: config, read: config.size, default: Self.defaultReadAhead,
            describe: \.defaultValueDescription)
        try Self.checkReadAhead(readAhead, origin: config.origin("read_ahead") ?? "--read-ahead")
        let rangeRequests = try report.pick(
            "range_requests", flag: rangeRequests, config: config, read: config.int, default: CacheConfiguration.defaultRangeFetches)
        try Self.checkRangeRequests(rangeRequests, origin: config.origin("range_requests") ?? "--range-requests")
        return CacheConfiguration(
            directory: directory, maxBytes: maxSize?.bytes, blockSize: Int(blockSize.bytes),
            maxConcurrentRangeFetches: rangeRequests, maxReadAhead: Int(readAhead.bytes),
            flushInterval: .milliseconds(Int(cacheFlushInterval * 1000)))
    }
}

/// A byte count written as digits with an optional K, M, G or T (powers of 1024).
struct ByteSize: ExpressibleByArgument, Sendable {
    let bytes: Int64

    init(bytes: Int64) {
        self.bytes = bytes
    }

    var defaultValueDescription: String { ByteCountFormatter.string(fromByteCount: bytes, countStyle: .binary) }

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces).uppercased().replacingOccurrences(of: "IB", with: "").replacingOccurrences(of: "B", with: "")
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = Substring(text)
        var scale: Int64 = 1
        if let last = text.last, let unit = units[last] {
            scale = unit
            digits = text.dropLast()
        }
        guard let value = Double(digits), value >= 0, value * Double(scale) < 9e18 else { return nil }
        bytes = Int64(value * Double(scale))
    }
}

struct CacheStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Show how much the cache holds and how often reads found their bytes there.")

    @OptionGroup var cache: CacheOptions
    @OptionGroup var config: ConfigOption

    func run() throws {
        let summary = CacheMaintenance.summary(directory: try cache.directory(config: config.load().settings(forMountpoint: nil)))
        let traffic = summary.lifetimeTraffic
        // A mount adds its reads to these totals every few seconds and when it ends.
        let hits = traffic.bytesFromCache + traffic.bytesFromNetwork == 0
            ? "no reads yet"
            : "\(String(format: "%.1f", summary.hitRatio * 100))% (\(formatBytes(traffic.bytesFromCache)) from the cache, \(formatBytes(traffic.bytesFromNetwork)) from the network)"
        print("""
            cache      \(summary.directory)\(summary.inUse ? "  (in use)" : "")
            cached     \(formatBytes(summary.bytesCached)) in \(summary.files) videos (\(summary.completeFiles) complete)
            on disk    \(formatBytes(summary.bytesOnDisk))
            hit ratio  \(hits)
            """)
    }
}

struct CacheClearCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clear", abstract: "Remove every cached video (not while a mount uses the cache).")

    @OptionGroup var cache: CacheOptions
    @OptionGroup var config: ConfigOption

    func run() throws {
        let directory = try cache.directory(config: config.load().settings(forMountpoint: nil))
        let before = CacheMaintenance.summary(directory: directory)
        try CacheMaintenance.clear(directory: directory)
        print("removed \(formatBytes(before.bytesOnDisk)) in \(before.files) videos from \(before.directory)")
    }
}

struct CacheWarmCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warm",
        abstract: "Fill the cache ahead of time.",
        discussion: """
            With paths, reads those files (folders: every file below them) through a mount, which \
            caches them. With --video, reads the videos straight through the cache, without a \
            mount (the cache must not be in use then).
            """
    )

    @Argument(help: ArgumentHelp("Files or folders in a mounted library.", valueName: "path"))
    var paths: [String] = []

    @Option(name: .customLong("video"), help: ArgumentHelp("A video id to fetch without a mount; repeat for more.", valueName: "id"))
    var videos: [String] = []

    @OptionGroup var client: ClientOptions
    @OptionGroup var cache: CacheOptions
    @OptionGroup var config: ConfigOption

    func validate() throws {
        guard paths.isEmpty != videos.isEmpty else { throw ValidationError("give either paths in a mount or --video ids") }
    }

    func run() async throws {
        var failures = 0
        if !videos.isEmpty {
            failures = try await warmThroughLibrary()
        } else {
            for file in try filesBelow(paths) {
                do {
                    try warmThroughMount(file)
                } catch {
                    failures += 1
                    FileHandle.standardError.write(Data("\(file): \(error)\n".utf8))
                }
            }
        }
        if failures > 0 { throw ExitCode.failure }
    }

    private func filesBelow(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ValidationError("\(path): no such file or folder")
            }
            guard isDirectory.boolValue else {
                files.append(path)
                continue
            }
            let walker = FileManager.default.enumerator(atPath: path)
            while let name = walker?.nextObject() as? String {
                let full = (path as NSString).appendingPathComponent(name)
                var folder: ObjCBool = false
                // Subtitle sidecars are not videos: they are fetched whole when opened, and a video
                // without speech has none to read.
                guard !full.hasSuffix(SubtitleKind.speech.fileSuffix) else { continue }
                if FileManager.default.fileExists(atPath: full, isDirectory: &folder), !folder.boolValue { files.append(full) }
            }
        }
        return files
    }

    /// Reads a file front to back in 1 MiB reads; the mount caches what passes through it.
    private func warmThroughMount(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        var info = stat()
        fstat(fd, &info)
        let progress = WarmProgress(name: (path as NSString).lastPathComponent, total: Int64(info.st_size))
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var done: Int64 = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let code = errno
                progress.finish("failed")
                throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
            }
            if n == 0 { break }
            done += Int64(n)
            progress.show(done)
        }
        progress.finish("cached")
    }

    /// Reads each video through a reader of the cache, as a mount would.
    private func warmThroughLibrary() async throws -> Int {
        let settings = try config.load().settings(forMountpoint: nil)
        var report = SettingsReport()
        let configuration = try client.makeConfiguration(config: settings, report: &report)
        var logger = Logger(label: "mavifs.cache") { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = .warning
        var cacheConfiguration = try cache.makeConfiguration(config: settings, report: &report)
        // One long sequential read: no point waiting on a player's timeout.
        cacheConfiguration.readTimeout = .seconds(600)
        let readSize = cacheConfiguration.blockSize
        var failures = 0
        try await MaviClient.withClient(configuration: configuration, logger: logger) { client in
            let reader = try VideoReader(client: client, namespace: configuration.namespace, configuration: cacheConfiguration, logger: logger)
            for id in videos {
                do {
                    guard let video = try await client.getMetadata(videoNo: id), let size = video.size else {
                        throw ValidationError("\(id): no such video, or no size in its listing")
                    }
                    let progress = WarmProgress(name: id, total: size)
                    reader.opened(video)
                    defer { reader.closed(video) }
                    var offset: Int64 = 0
                    while offset < size {
                        let bytes = try await reader.read(video, offset: UInt64(offset), size: readSize)
                        guard !bytes.isEmpty else { break }
                        offset += Int64(bytes.count)
                        progress.show(offset)
                    }
                    progress.finish("cached")
                } catch {
                    failures += 1
                    FileHandle.standardError.write(Data("\(id): \(error)\n".utf8))
                }
            }
            await reader.shutdown()
        }
        return failures
    }
}

/// One line of progress per file on standard error: redrawn in place on a terminal (at most ten
/// times a second), a single final line otherwise.
private final class WarmProgress: Sendable {
    let name: String
    let total: Int64
    let isTerminal = isatty(STDERR_FILENO) == 1
    private let started = ContinuousClock.now
    private let lastDraw = Mutex<ContinuousClock.Instant?>(nil)

    init(name: String, total: Int64) {
        self.name = name
        self.total = total
    }

    func show(_ done: Int64) {
        guard isTerminal else { return }
        let now = ContinuousClock.now
        let due = lastDraw.withLock { last -> Bool in
            if let last, now - last < .milliseconds(100), done < total { return false }
            last = now
            return true
        }
        guard due else { return }
        let percent = total > 0 ? Int(done * 100 / total) : 100
        let width = 30
        let filled = total > 0 ? Int(Int64(width) * done / total) : width
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        FileHandle.standardError.write(Data("\r\u{1B}[K\(name) [\(bar)] \(percent)% \(formatBytes(done)) of \(formatBytes(total)) \(rate(done))".utf8))
    }

    func finish(_ outcome: String) {
        let line = "\(name): \(outcome), \(formatBytes(total)) \(rate(total))"
        FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[K" : "") + line + "\n").utf8))
    }

    private func rate(_ bytes: Int64) -> String {
        let (seconds, attoseconds) = (ContinuousClock.now - started).components
        let elapsed = Double(seconds) + Double(attoseconds) * 1e-18
        guard elapsed > 0.2 else { return "" }
        return "\(formatBytes(Int64(Double(bytes) / elapsed)))/s"
    }
}
