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
    /// The listing waiting to be saved, and the task that will save it.
    private let saving = Mutex<(pending: [Video]?, task: Task<Void, Never>?)>((nil, nil))
    /// How long a fetched listing waits before it is saved: out of the way of the first look at
    /// the mount (encoding a large library takes a core for a while).
    public let saveDelay: Duration
    /// Videos no listing shows: deleted by this mount, whether or not the server has it yet.
    /// They are taken out of the cached listings once, when hidden, and out of every listing
    /// fetched later, so that reading a listing costs nothing more.
    private let hidden = Mutex(Set<String>())
    private let clock = ContinuousClock()
    private let logger: Logger

    /// When it was saved, if the full listing came from the store and has not been refreshed yet.
    public let restoredFrom: Date?

    public init(
        source: any VideoListingSource, ttl: Duration, store: ListingStore? = nil, saveDelay: Duration = .seconds(3),
        logger: Logger = Logger(label: "mavifs.catalog")
    ) {
        self.source = source
        self.ttl = ttl
        self.store = store
        self.saveDelay = saveDelay
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
        try await fetched(filter)
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
        return try await task.value
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
                var videos = try await source.videos(matching: filter)
                let hidden = self.hidden.withLock { $0 }
                if !hidden.isEmpty { videos.removeAll { hidden.contains($0.videoNo) } }
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

    /// Saves a full listing in the background, after ``saveDelay``; only the latest listing
    /// waiting is saved.
    private func save(_ videos: [Video]) {
        guard store != nil else { return }
        saving.withLock { saving in
            saving.pending = videos
            if saving.task == nil { saving.task = Task.detached { await self.saveWhenDue() } }
        }
    }

    private func saveWhenDue() async {
        // Cancelled by persistNow(): save at once.
        try? await Task.sleep(for: saveDelay)
        while let videos = saving.withLock({ saving -> [Video]? in
            defer { saving.pending = nil }
            if saving.pending == nil { saving.task = nil }
            return saving.pending
        }) {
            do {
                try store?.save(videos)
            } catch {
                logger.notice("could not save the listing for the next mount: \(error)")
            }
        }
    }

    /// Saves the listing waiting to be saved now (a mount ending), and returns once it is.
    public func persistNow() async {
        let task = saving.withLock { $0.task }
        task?.cancel()
        await task?.value
    }

    /// Whether the full listing is still the one a previous mount stored (no refresh has landed).
    public var isRestored: Bool {
        entries.withLock { $0[VideoFilter()]?.restored ?? false }
    }

    /// The cached listing for `filter`, whatever its age, without any network call.
    public func cached(_ filter: VideoFilter = VideoFilter()) -> Listing? {
        entries.withLock { $0[filter]?.listing }
    }

    /// Leaves `videoNos` out of every listing from now on (deleted, the server may not know yet).
    public func hide(_ videoNos: some Sequence<String>) {
        let added = hidden.withLock { hidden in Set(videoNos.filter { hidden.insert($0).inserted }) }
        guard !added.isEmpty else { return }
        entries.withLock { all in
            for key in all.keys where all[key]?.listing != nil {
                // In place, one pass; a single id (an rm) is found by its position alone.
                if added.count == 1, let only = added.first {
                    if let at = all[key]?.listing?.videos.firstIndex(where: { $0.videoNo == only }) {
                        all[key]?.listing?.videos.remove(at: at)
                    }
                } else {
                    all[key]?.listing?.videos.removeAll { added.contains($0.videoNo) }
                }
            }
        }
    }

    /// Shows `videoNos` again in listings fetched from now on (their delete was refused).
    public func unhide(_ videoNos: some Sequence<String>) {
        hidden.withLock { $0.subtract(videoNos) }
    }

    /// Forgets every cached listing.
    public func invalidateAll() {
        entries.withLock { all in
            for key in all.keys { all[key]?.listing = nil }
        }
    }

}
