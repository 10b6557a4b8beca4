import Foundation
import Logging
import MaviAPI
import MaviClient
import Synchronization

/// Where listings come from. `MaviClient` is the real one; tests may substitute their own.
public protocol VideoListingSource: Sendable {
    func videos(matching filter: VideoFilter) async throws -> [Video]
    func delete(videoNos: [String]) async throws
}

extension MaviClient: VideoListingSource {
    public func videos(matching filter: VideoFilter) async throws -> [Video] {
        // Large pages: a 10,000-video library is 10 requests instead of 50, two seconds instead
        // of ten at the documented 5 lists a second.
        try await allVideos(filter: filter, size: APILimits.largeListPageSize)
    }

    public func delete(videoNos: [String]) async throws {
        try await deleteVideos(videoNos)
    }
}

/// A listing and when it was fetched.
public struct Listing: Sendable {
    public var videos: [Video]
    public var fetchedAt: ContinuousClock.Instant
    /// The listing is older than the time to live: the last fetch failed and this is the last good one.
    public var isStale: Bool
}

/// `list_videos` results cached per filter for a time to live.
///
/// Concurrent callers asking for the same filter share one fetch. When a refresh fails and an older
/// listing exists, the older one is served (marked stale) rather than failing a directory listing.
public final class VideoCatalog: Sendable {
    private struct Entry {
        var listing: Listing?
        var refresh: Task<[Video], any Error>?
    }

    public let ttl: Duration
    private let source: any VideoListingSource
    private let entries = Mutex<[VideoFilter: Entry]>([:])
    /// Videos no listing shows: deleted by this mount, whether or not the server has it yet.
    private let hidden = Mutex(Hidden())
    /// Each filter's listing without the hidden videos, kept while neither changes: a `find`
    /// looks listings up thousands of times.
    private let shown = Mutex<[VideoFilter: (fetchedAt: ContinuousClock.Instant, generation: Int, listing: Listing)]>([:])

    private struct Hidden {
        var videoNos = Set<String>()
        /// Bumped at every change.
        var generation = 0
    }
    private let clock = ContinuousClock()
    private let logger: Logger

    public init(source: any VideoListingSource, ttl: Duration, logger: Logger = Logger(label: "mavifs.catalog")) {
        self.source = source
        self.ttl = ttl
        self.logger = logger
    }

    /// The videos matching `filter`, from the cache when younger than the TTL, without the
    /// hidden ones.
    public func list(_ filter: VideoFilter = VideoFilter()) async throws -> Listing {
        withoutHidden(try await fetched(filter), filter: filter)
    }

    private func fetched(_ filter: VideoFilter) async throws -> Listing {
        let now = clock.now
        let (fresh, refresh) = entries.withLock { all -> (Listing?, Task<[Video], any Error>?) in
            var entry = all[filter] ?? Entry()
            if let l = entry.listing, now - l.fetchedAt < ttl { return (l, nil) }
            if let running = entry.refresh { return (nil, running) }
            let source = source
            let task = Task { try await source.videos(matching: filter) }
            entry.refresh = task
            all[filter] = entry
            return (nil, task)
        }
        if let fresh { return fresh }
        guard let task = refresh else { throw CancellationError() }
        do {
            let videos = try await task.value
            let listing = Listing(videos: videos, fetchedAt: clock.now, isStale: false)
            entries.withLock { all in
                all[filter] = Entry(listing: listing, refresh: nil)
            }
            return listing
        } catch {
            let previous = entries.withLock { all -> Listing? in
                all[filter]?.refresh = nil
                return all[filter]?.listing
            }
            guard var stale = previous else { throw error }
            logger.warning("listing refresh failed, serving the previous listing: \(error)")
            stale.isStale = true
            return stale
        }
    }

    /// The cached listing for `filter`, whatever its age, without any network call.
    public func cached(_ filter: VideoFilter = VideoFilter()) -> Listing? {
        entries.withLock { $0[filter]?.listing }.map { withoutHidden($0, filter: filter) }
    }

    /// Leaves `videoNos` out of every listing from now on (deleted, the server may not know yet).
    public func hide(_ videoNos: some Sequence<String>) {
        hidden.withLock { hidden in
            let before = hidden.videoNos.count
            hidden.videoNos.formUnion(videoNos)
            if hidden.videoNos.count != before { hidden.generation += 1 }
        }
    }

    /// Shows `videoNos` again (their delete was refused).
    public func unhide(_ videoNos: some Sequence<String>) {
        hidden.withLock { hidden in
            let before = hidden.videoNos.count
            hidden.videoNos.subtract(videoNos)
            if hidden.videoNos.count != before { hidden.generation += 1 }
        }
    }

    private func withoutHidden(_ listing: Listing, filter: VideoFilter) -> Listing {
        let hidden = self.hidden.withLock { $0 }
        guard !hidden.videoNos.isEmpty else { return listing }
        if let kept = shown.withLock({ $0[filter] }), kept.fetchedAt == listing.fetchedAt, kept.generation == hidden.generation {
            var result = kept.listing
            result.isStale = listing.isStale
            return result
        }
        var result = listing
        result.videos.removeAll { hidden.videoNos.contains($0.videoNo) }
        shown.withLock { $0[filter] = (listing.fetchedAt, hidden.generation, result) }
        return result
    }

    /// Removes a deleted video from every cached listing, so no view shows it before the next refresh.
    public func remove(videoNo: String) {
        shown.withLock { $0.removeAll() }
        entries.withLock { all in
            for key in all.keys {
                all[key]?.listing?.videos.removeAll { $0.videoNo == videoNo }
            }
        }
    }

    /// Forgets every cached listing.
    public func invalidateAll() {
        entries.withLock { all in
            for key in all.keys { all[key]?.listing = nil }
        }
    }

    public func delete(videoNos: [String]) async throws {
        try await source.delete(videoNos: videoNos)
        for no in videoNos { remove(videoNo: no) }
    }
}
