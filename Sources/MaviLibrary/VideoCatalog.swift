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
///
/// With a ``ListingStore``, the full listing a previous mount saved is served at once, marked
/// stale, while its first refresh runs in the background; every full listing fetched is saved
/// for the next mount.
public final class VideoCatalog: Sendable {
    private struct Entry {
        var listing: Listing?
        var refresh: Task<Listing, any Error>?
        /// The listing came from the store: served as it is while the first refresh runs.
        var restored = false
    }

    public let ttl: Duration
    private let source: any VideoListingSource
    private let store: ListingStore?
    private let entries = Mutex<[VideoFilter: Entry]>([:])
    /// Saves run one at a time, the latest listing last.
    private let saving = Mutex<(running: Bool, next: [Video]?)>((false, nil))
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

    /// When it was saved, if the full listing came from the store and has not been refreshed yet.
    public let restoredFrom: Date?

    public init(source: any VideoListingSource, ttl: Duration, store: ListingStore? = nil, logger: Logger = Logger(label: "mavifs.catalog")) {
        self.source = source
        self.ttl = ttl
        self.store = store
        self.logger = logger
        if let stored = store?.load() {
            // Older than any time to live: the first look starts a refresh.
            let listing = Listing(videos: stored.videos, fetchedAt: clock.now - ttl - .seconds(1), isStale: true)
            entries.withLock { $0[VideoFilter()] = Entry(listing: listing, restored: true) }
            restoredFrom = stored.savedAt
        } else {
            restoredFrom = nil
        }
    }

    /// The videos matching `filter`, from the cache when younger than the TTL, without the
    /// hidden ones.
    public func list(_ filter: VideoFilter = VideoFilter()) async throws -> Listing {
        withoutHidden(try await fetched(filter), filter: filter)
    }

    /// A listing of `filter` fetched now (or by the refresh running now), never a cached one.
    public func refreshed(_ filter: VideoFilter = VideoFilter()) async throws -> Listing {
        let task = entries.withLock { all -> Task<Listing, any Error> in
            var entry = all[filter] ?? Entry()
            let task = entry.refresh ?? makeRefresh(filter)
            entry.refresh = task
            all[filter] = entry
            return task
        }
        return withoutHidden(try await task.value, filter: filter)
    }

    private func fetched(_ filter: VideoFilter) async throws -> Listing {
        let now = clock.now
        let (ready, refresh) = entries.withLock { all -> (Listing?, Task<Listing, any Error>?) in
            var entry = all[filter] ?? Entry()
            if let l = entry.listing, now - l.fetchedAt < ttl { return (l, nil) }
            let task = entry.refresh ?? makeRefresh(filter)
            entry.refresh = task
            all[filter] = entry
            // A stored listing is served at once; its refresh replaces it when it lands.
            if entry.restored, let l = entry.listing { return (l, nil) }
            return (nil, task)
        }
        if let ready { return ready }
        guard let task = refresh else { throw CancellationError() }
        do {
            return try await task.value
        } catch {
            guard var stale = entries.withLock({ $0[filter]?.listing }) else { throw error }
            logger.warning("listing refresh failed, serving the previous listing: \(error)")
            stale.isStale = true
            return stale
        }
    }

    /// A fetch of `filter` that puts its answer in the cache itself (so a refresh nobody waits
    /// for still lands), and saves a full listing to the store.
    private func makeRefresh(_ filter: VideoFilter) -> Task<Listing, any Error> {
        let source = source
        return Task {
            do {
                let videos = try await source.videos(matching: filter)
                let listing = Listing(videos: videos, fetchedAt: clock.now, isStale: false)
                entries.withLock { $0[filter] = Entry(listing: listing) }
                if filter == VideoFilter() { save(videos) }
                return listing
            } catch {
                entries.withLock { $0[filter]?.refresh = nil }
                throw error
            }
        }
    }

    /// Saves a full listing in the background; while one save runs, only the latest listing
    /// waits for its turn.
    private func save(_ videos: [Video]) {
        guard let store else { return }
        let start = saving.withLock { saving -> Bool in
            if saving.running {
                saving.next = videos
                return false
            }
            saving.running = true
            return true
        }
        guard start else { return }
        Task.detached { [logger] in
            var next: [Video]? = videos
            while let batch = next {
                do {
                    try store.save(batch)
                } catch {
                    logger.notice("could not save the listing for the next mount: \(error)")
                }
                next = self.saving.withLock { saving in
                    defer { saving.next = nil }
                    if saving.next == nil { saving.running = false }
                    return saving.next
                }
            }
        }
    }

    /// Whether the full listing is still the one a previous mount stored (no refresh has landed).
    public var isRestored: Bool {
        entries.withLock { $0[VideoFilter()]?.restored ?? false }
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
