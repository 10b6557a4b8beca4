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
    private let clock = ContinuousClock()
    private let logger: Logger

    public init(source: any VideoListingSource, ttl: Duration, logger: Logger = Logger(label: "mavifs.catalog")) {
        self.source = source
        self.ttl = ttl
        self.logger = logger
    }

    /// The videos matching `filter`, from the cache when younger than the TTL.
    public func list(_ filter: VideoFilter = VideoFilter()) async throws -> Listing {
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
        entries.withLock { $0[filter]?.listing }
    }

    /// Removes a deleted video from every cached listing, so no view shows it before the next refresh.
    public func remove(videoNo: String) {
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
