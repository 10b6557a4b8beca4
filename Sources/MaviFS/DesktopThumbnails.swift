import Foundation
import Logging
import MaviAPI
import MaviLibrary
import Synchronization
import Thumbnails

/// Thumbnails of the mount's videos in the user's thumbnail cache, made from their cover frames,
/// so that a file manager opening a folder finds them ready and reads no video to make its own.
///
/// A folder listed queues its videos; a few workers in the background fetch each cover (once: the
/// cover store keeps it) and write the thumbnails, encoded on a thread of low priority. Listing
/// never waits for them. A thumbnail is
/// per path (the standard keys it by URI), so a video shown in three views gets three.
final class DesktopThumbnails: Sendable {
    /// One file of the mount to make thumbnails for.
    struct Job: Sendable {
        var path: String
        var video: Video
        var mtime: Int
    }

    /// Thumbnails made side by side: covers come from the network, decoding takes a core.
    static let workers = 2
    /// Jobs waiting at most: a listing of a whole large library queues its first videos only,
    /// about what a file manager shows before scrolling far.
    static let maxQueued = 5_000
    /// Paths remembered as done. Past it they are forgotten at once: a path forgotten costs a
    /// look at the thumbnail cache when listed again, and a mount of a million videos browsed for
    /// days should not keep a path for each.
    static let maxDone = 50_000

    let mountpoint: String
    let cache: ThumbnailCache
    private let covers: CoverStore
    private let logger: Logger
    private let state = Mutex(State())
    /// Where covers are decoded and thumbnails encoded: never on the pool readers' bytes go through.
    private let encoder = LowPriorityThread(name: "mavifs-thumbs")

    private struct State {
        var queue: [Job] = []
        var head = 0
        var queued = Set<String>()
        var running = 0
        /// Paths whose thumbnails are current, with the mtime they were made for.
        var done: [String: Int] = [:]
        /// Paths removed while their job waited or ran: their thumbnails must not come back.
        var gone = Set<String>()
        var written = 0
        /// Found current in the cache (made by an earlier mount), so not written again.
        var current = 0
        var failed = 0
    }

    init(mountpoint: String, cache: ThumbnailCache, covers: CoverStore, logger: Logger) {
        self.mountpoint = mountpoint.hasSuffix("/") && mountpoint.count > 1 ? String(mountpoint.dropLast()) : mountpoint
        self.cache = cache
        self.covers = covers
        self.logger = logger
    }

    /// Thumbnails written, found current and failed since the mount started.
    var counts: ThumbnailCounts { state.withLock { ThumbnailCounts(written: $0.written, current: $0.current, failed: $0.failed) } }

    /// Queues the files not done or queued already; starts workers as needed.
    func enqueue(_ jobs: some Sequence<Job>) {
        let start = state.withLock { s -> Int in
            for job in jobs {
                guard s.queue.count - s.head < Self.maxQueued else { break }
                s.gone.remove(job.path)
                guard s.done[job.path] != job.mtime, s.queued.insert(job.path).inserted else { continue }
                s.queue.append(job)
            }
            let idle = min(Self.workers - s.running, s.queue.count - s.head)
            s.running += max(0, idle)
            return max(0, idle)
        }
        for _ in 0..<start {
            Task.detached(priority: .background) { [self] in await work() }
        }
    }

    /// Removes the thumbnails of files the mount no longer shows.
    func remove(paths: [String]) {
        guard !paths.isEmpty else { return }
        state.withLock { s in
            for path in paths {
                s.done.removeValue(forKey: path)
                if s.queued.contains(path) { s.gone.insert(path) }
            }
        }
        for path in paths {
            guard let uri = try? FileURI.uri(forPath: path) else { continue }
            cache.remove(uri: uri)
        }
    }

    private func work() async {
        while let job = next() {
            let made = await make(job)
            state.withLock { s in
                s.queued.remove(job.path)
                if made {
                    if s.done.count >= Self.maxDone { s.done.removeAll(keepingCapacity: true) }
                    s.done[job.path] = job.mtime
                }
            }
        }
    }

    private func next() -> Job? {
        state.withLock { s in
            guard s.head < s.queue.count else {
                s.queue.removeAll()
                s.head = 0
                s.running -= 1
                return nil
            }
            defer { s.head += 1 }
            return s.queue[s.head]
        }
    }

    /// Writes the thumbnails of one file unless they are current; true when they are now.
    private func make(_ job: Job) async -> Bool {
        do {
            let facts = ThumbnailFacts(
                uri: try FileURI.uri(forPath: job.path), mtime: job.mtime, size: UInt64(max(0, job.video.size ?? 0)),
                mimeType: VideoTypes.mimeType(ofExtension: (job.path as NSString).pathExtension),
                movieLength: job.video.duration.map(Int.init))
            if ThumbnailSize.allCases.allSatisfy({ cache.isCurrent(facts, size: $0) }) {
                state.withLock { $0.current += 1 }
                return true
            }
            let cover = try await covers.coverFile(for: job.video)
            guard !state.withLock({ $0.gone.contains(job.path) }) else { return false }
            try await encoder.run { [cache] in try cache.write(from: cover, facts: facts) }
            // Removed while it was being written: take it away again.
            if state.withLock({ $0.gone.remove(job.path) != nil }) {
                cache.remove(uri: facts.uri)
                return false
            }
            state.withLock { $0.written += 1 }
            return true
        } catch {
            state.withLock { $0.failed += 1 }
            logger.info("no thumbnail for \(job.path): \(error)")
            return false
        }
    }
}

/// What the thumbnail writer has done since the mount started, per file of the mount.
public struct ThumbnailCounts: Sendable, Equatable {
    public var written: Int
    public var current: Int
    public var failed: Int
}
