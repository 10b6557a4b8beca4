import Foundation
import Logging
import MaviAPI
import MaviClient
import Synchronization

/// Where cover frames come from. `MaviClient` is the real one.
public protocol CoverSource: Sendable {
    func cover(_ url: URL, maxBytes: Int) async throws -> [UInt8]
}

extension MaviClient: CoverSource {}

/// Cover frames (each video's `cover_url`) kept on disk beside the block cache, fetched once each.
///
/// A cover is stored under its video's number: a video's cover does not change, while its URL may
/// (signed CDN links). Concurrent askers of one cover share its fetch. A file is written under a
/// temporary name and renamed, so a cover on disk is always whole.
public final class CoverStore: Sendable {
    public static let maxCoverBytes = 16 << 20

    private let directory: String
    private let source: any CoverSource
    private let logger: Logger
    private let fetches = Mutex<[String: Task<String, any Error>]>([:])

    /// `directory` is created when the first cover is stored.
    public init(directory: String, source: any CoverSource, logger: Logger = Logger(label: "mavifs.covers")) {
        self.directory = directory
        self.source = source
        self.logger = logger
    }

    /// Where a namespace's covers live inside a cache directory. The namespace is percent-encoded,
    /// so no name can reach outside `covers/`.
    public static func directory(cache: String, namespace: String) -> String {
        let safe = namespace.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "default"
        return cache + "/covers/" + (safe.isEmpty ? "default" : safe)
    }

    /// The size of the video's cover if it is on disk, without any network call.
    public func storedSize(videoNo: String) -> Int? {
        guard let path = path(videoNo: videoNo) else { return nil }
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : nil
    }

    /// The path of the video's cover on disk, fetched first if needed. Throws when the video has no
    /// usable cover URL or the fetch fails.
    public func coverFile(for video: Video) async throws -> String {
        guard let path = path(videoNo: video.videoNo) else { throw CoverError.unsafeVideoNumber(video.videoNo) }
        if FileManager.default.fileExists(atPath: path) { return path }
        guard let text = video.coverURL, let url = URL(string: text), url.scheme == "http" || url.scheme == "https" else {
            throw CoverError.noCover(video.videoNo)
        }
        let task = fetches.withLock { running -> Task<String, any Error> in
            if let existing = running[video.videoNo] { return existing }
            let task = Task { try await self.fetch(url, to: path) }
            running[video.videoNo] = task
            return task
        }
        defer { _ = fetches.withLock { $0.removeValue(forKey: video.videoNo) } }
        return try await task.value
    }

    /// Reads `[offset, offset + size)` of the cover, fewer at its end.
    public func read(_ video: Video, offset: UInt64, size: Int) async throws -> [UInt8] {
        let path = try await coverFile(for: video)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CoverError.unreadable(path, errno) }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: size)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, size, off_t(offset)) }
        guard count >= 0 else { throw CoverError.unreadable(path, errno) }
        return Array(bytes.prefix(count))
    }

    private func fetch(_ url: URL, to path: String) async throws -> String {
        let bytes = try await source.cover(url, maxBytes: Self.maxCoverBytes)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = path + ".part-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)), rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CoverError.unwritable(path)
        }
        logger.debug("stored cover \(path) (\(bytes.count) bytes)")
        return path
    }

    /// The file of a video's cover. Video numbers come from the server, so one that could name
    /// anything but a plain file in `directory` is refused.
    private func path(videoNo: String) -> String? {
        guard !videoNo.isEmpty, videoNo.utf8.count <= 128,
              videoNo.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_") })
        else { return nil }
        return directory + "/" + videoNo + ".jpg"
    }
}

public enum CoverError: Error, CustomStringConvertible {
    case noCover(String)
    case unsafeVideoNumber(String)
    case unreadable(String, Int32)
    case unwritable(String)

    public var description: String {
        switch self {
        case .noCover(let no): "video \(no) has no cover URL"
        case .unsafeVideoNumber(let no): "video number \(no.debugDescription) cannot name a cover file"
        case .unreadable(let path, let e): "cannot read \(path): \(String(cString: strerror(e)))"
        case .unwritable(let path): "cannot store \(path)"
        }
    }
}
