import Foundation
import Logging
import MaviAPI
import MaviClient
import Synchronization

/// Where listings come from. `MaviClient` is the real one; tests may substitute their own.
public protocol VideoListingSource: Sendable {
    /// Every video matching `filter`, in the service's order.
    func videos(matching filter: VideoFilter) async throws -> [Video]
    /// One page of the videos matching `filter` (pages count from 1), with the total count.
    func page(matching filter: VideoFilter, page: Int, size: Int) async throws -> VideoPage
    func delete(videoNos: [String]) async throws
    /// Every video matching `filter`, packed as they come.
    func table(matching filter: VideoFilter) async throws -> VideoTable
}

extension VideoListingSource {
    public func table(matching filter: VideoFilter) async throws -> VideoTable {
        VideoTable(try await videos(matching: filter))
    }

    /// A page cut from the whole listing, for sources that cannot ask for one.
    public func page(matching filter: VideoFilter, page: Int, size: Int) async throws -> VideoPage {
        let all = try await videos(matching: filter)
        let start = min(all.count, (page - 1) * size)
        return VideoPage(currentPage: page, pageSize: size, totalCount: Int64(all.count), videos: Array(all[start..<min(all.count, start + size)]))
    }
}

extension MaviClient: VideoListingSource {
    public func videos(matching filter: VideoFilter) async throws -> [Video] {
        // Large pages: a 10,000-video library is 10 requests instead of 50, two seconds instead
        // of ten at the documented 5 lists a second.
        try await allVideos(filter: filter, size: APILimits.largeListPageSize)
    }

    public func page(matching filter: VideoFilter, page: Int, size: Int) async throws -> VideoPage {
        try await listVideos(filter: filter, page: page, size: size)
    }

    /// Packed page by page: a library of a million videos is never held as records.
    public func table(matching filter: VideoFilter) async throws -> VideoTable {
        var builder = VideoTable.Builder()
        // Each video once, even if the listing shifted while it was read: the table's own index
        // tells a number seen already.
        try await forEachVideo(filter: filter, size: APILimits.largeListPageSize, unique: false, reserve: { builder.reserve($0) }) { video in
            if !builder.contains(video.videoNo) { builder.append(video) }
        }
        return builder.build()
    }

    public func delete(videoNos: [String]) async throws {
        try await deleteVideos(videoNos)
    }
}

/// How the full listing has been kept up to date, for `mavifs status`.
public struct RefreshStats: Sendable, Equatable {
    /// Refreshes that read only what changed.
    public var incremental = 0
    /// Refreshes that fetched the whole listing.
    public var whole = 0
    /// `list_videos` calls the last refresh made (pages, and id checks of videos processing).
    public var lastCalls = 0
    /// Why the last refresh fetched the whole listing, when it did.
    public var lastWholeReason: String?

    public init() {}
}

/// A listing and when it was fetched.
public struct Listing: Sendable {
    public var videos: VideoTable
    public var fetchedAt: ContinuousClock.Instant
    /// The listing is older than the time to live: the last fetch failed and this is the last good one.
    public var isStale: Bool
    /// Changes only when the videos do: a refresh that finds the same videos keeps it, so what
    /// was made from the listing (a folder of 100,000 entries) is made again only when it must.
    public var revision: UInt64
    /// Videos deleted through the mount, which the listing may still hold until its next fetch:
    /// taking one out of a packed table copies the table, and a `find -delete` over a large
    /// library would copy it at every `rm`. What shows a listing leaves them out (``isShown(_:)``).
    public var hidden: Set<String> = []

    public init(videos: VideoTable, fetchedAt: ContinuousClock.Instant, isStale: Bool, revision: UInt64, hidden: Set<String> = []) {
        self.videos = videos
        self.fetchedAt = fetchedAt
        self.isStale = isStale
        self.revision = revision
        self.hidden = hidden
    }

    /// Whether the video at `position` is shown (not deleted through the mount).
    public func isShown(_ position: Int) -> Bool {
        hidden.isEmpty || !hidden.contains(videos.videoNo(at: position))
    }

    /// The positions of the videos shown; `nil` when the listing holds no hidden video (all of
    /// them are shown).
    public var shownPositions: [Int]? {
        guard hidden.contains(where: { videos.position(of: $0) != nil }) else { return nil }
        return videos.indices.filter(isShown)
    }

    /// How many videos are shown.
    public var shownCount: Int {
        videos.count - hidden.reduce(0) { $0 + (videos.position(of: $1) == nil ? 0 : 1) }
    }
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
    private let saving = Mutex<(pending: VideoTable?, task: Task<Void, Never>?)>((nil, nil))
    /// How long a fetched listing waits before it is saved: out of the way of the first look at
    /// the mount (encoding a large library takes a core for a while).
    public let saveDelay: Duration
    /// Videos no listing shows: deleted by this mount, whether or not the server has it yet.
    /// Listings fetched later leave them out; a cached listing keeps them until its next fetch
    /// and carries this set (``Listing/hidden``), which whoever shows a listing must honour.
    private let hidden = Mutex(Set<String>())
    /// The hidden videos whose delete the server has not confirmed yet: it still lists them.
    private let pendingDeletes = Mutex(Set<String>())
    /// Views whose stored answer has been looked for (once per mount each).
    private let restoredViews = Mutex(Set<StoredView>())
    /// Views' answers waiting to be stored (the latest of each), and the task storing them.
    private let savingAnswers = Mutex<(pending: [StoredView: [String]], task: Task<Void, Never>?)>(([:], nil))
    private let clock = ContinuousClock()
    private let logger: Logger
    /// How often the full listing is fetched whole even when reading from the top finds it
    /// unchanged: changes made in place to processed videos (their tags, their name) show no
    /// other way. `nil`: only when the checks ask for it.
    public let wholeListingInterval: Duration?
    private let revisions = Atomic<UInt64>(0)
    private let refreshes = Mutex<(stats: RefreshStats, lastWhole: ContinuousClock.Instant?)>((RefreshStats(), nil))

    /// When it was saved, if the full listing came from the store and has not been refreshed yet.
    public let restoredFrom: Date?

    public init(
        source: any VideoListingSource, ttl: Duration, store: ListingStore? = nil, saveDelay: Duration = .seconds(3),
        wholeListingInterval: Duration? = .seconds(3600), logger: Logger = Logger(label: "mavifs.catalog")
    ) {
        self.source = source
        self.wholeListingInterval = wholeListingInterval
        self.ttl = ttl
        self.store = store
        self.saveDelay = saveDelay
        self.logger = logger
        if let stored = store?.load() {
            // Older than any time to live: the first look starts a refresh. Revision 0 is the
            // stored listing's; fetched listings count from 1.
            let listing = Listing(videos: stored.videos, fetchedAt: clock.now - ttl - .seconds(1), isStale: true, revision: 0)
            entries.withLock { $0[VideoFilter()] = Entry(listing: listing, restored: true) }
            restoredFrom = stored.savedAt
        } else {
            restoredFrom = nil
        }
    }

    /// The videos matching `filter`, from the cache when younger than the TTL, with the videos
    /// to leave out (``Listing/hidden``).
    public func list(_ filter: VideoFilter = VideoFilter()) async throws -> Listing {
        withHidden(try await fetched(filter))
    }

    private func withHidden(_ listing: Listing) -> Listing {
        var listing = listing
        listing.hidden = hidden.withLock { $0 }
        return listing
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
        return withHidden(try await task.value)
    }

    private func fetched(_ filter: VideoFilter) async throws -> Listing {
        restoreAnswer(of: filter)
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
        return Task {
            do {
                var videos = try await filter == VideoFilter()
                    ? fullListing(hidden: self.hidden.withLock { $0 }) : source.table(matching: filter)
                // Read again once the answer is in: a video deleted while it was fetched stays gone.
                let hidden = self.hidden.withLock { $0 }
                if !hidden.isEmpty { videos = videos.removing(hidden) }
                let previous = entries.withLock { $0[filter]?.listing }
                let unchanged = previous.flatMap { $0.videos.removing(hidden) == videos ? $0 : nil }
                let revision = unchanged?.revision ?? nextRevision()
                // The same videos keep the same array: what holds the previous one (the mount's
                // names and folders) would otherwise hold a second copy of the library.
                let listing = Listing(videos: unchanged?.videos ?? videos, fetchedAt: clock.now, isStale: false, revision: revision)
                entries.withLock { $0[filter] = Entry(listing: listing) }
                // The same videos as before are stored already.
                if filter == VideoFilter(), revision != previous?.revision { save(videos) }
                if let view = StoredView(filter), revision != previous?.revision { saveAnswer(of: view, videos) }
                return listing
            } catch {
                entries.withLock { $0[filter]?.refresh = nil }
                throw error
            }
        }
    }

    /// The full listing brought up to date from the top when the last one can be (see
    /// ``IncrementalRefresh``), else fetched whole.
    private func fullListing(hidden: Set<String>) async throws -> VideoTable {
        let now = clock.now
        let (listed, lastWhole) = (entries.withLock { $0[VideoFilter()]?.listing?.videos }, refreshes.withLock { $0.lastWhole })
        // Brought up to date without what the mount deleted since (see `Listing.hidden`).
        let previous = listed?.removing(hidden)
        var reason = "no listing yet"
        var calls = 0
        if let previous, !previous.isEmpty {
            // A stored listing older than the interval is due at once: what changed in place
            // while no mount ran shows no other way.
            let due = wholeListingInterval.map { interval in
                lastWhole.map { now - $0 >= interval }
                    ?? (!isRestored || restoredFrom.map { Date().timeIntervalSince($0) >= interval.secondsValue } ?? true)
            } ?? false
            if due {
                reason = "due for a whole listing"
            } else {
                let whole = Self.wholeListingPages(previous.count) + 1
                let pending = pendingDeletes.withLock { $0 }
                switch try await IncrementalRefresh(source: source).refresh(previous: previous, hidden: hidden, pending: pending, wholeListingCalls: whole) {
                case .updated(let videos, let made):
                    refreshes.withLock {
                        $0.stats.incremental += 1
                        $0.stats.lastCalls = made
                        if $0.lastWhole == nil { $0.lastWhole = now }
                    }
                    return videos
                case .relistWhole(let why, let made):
                    reason = why
                    calls = made
                }
            }
        }
        logger.debug("fetching the whole listing: \(reason)")
        let videos = try await source.table(matching: VideoFilter())
        // About what the client asked for (it may page otherwise when the service caps pages).
        let pages = max(1, Self.wholeListingPages(videos.count))
        refreshes.withLock {
            $0.stats.whole += 1
            $0.stats.lastCalls = calls + pages
            $0.stats.lastWholeReason = reason
            $0.lastWhole = now
        }
        return videos
    }

    private func nextRevision() -> UInt64 {
        revisions.add(1, ordering: .relaxed).newValue
    }

    /// The pages a whole listing of `count` videos takes, at the size the catalog asks for.
    static func wholeListingPages(_ count: Int) -> Int {
        (count + APILimits.largeListPageSize - 1) / APILimits.largeListPageSize
    }

    /// How the full listing has been refreshed so far.
    public var refreshStats: RefreshStats { refreshes.withLock { $0.stats } }

    /// Saves a full listing in the background, after ``saveDelay``; only the latest listing
    /// waiting is saved.
    private func save(_ videos: VideoTable) {
        guard store != nil else { return }
        saving.withLock { saving in
            saving.pending = videos
            if saving.task == nil { saving.task = Task.detached { await self.saveWhenDue() } }
        }
    }

    private func saveWhenDue() async {
        // Cancelled by persistNow(): save at once.
        try? await Task.sleep(for: saveDelay)
        while let videos = saving.withLock({ saving -> VideoTable? in
            defer { saving.pending = nil }
            if saving.pending == nil { saving.task = nil }
            return saving.pending
        }) {
            do {
                // Without what the mount deleted: the next mount must not show it.
                try store?.save(videos.removing(hidden.withLock { $0 }))
            } catch {
                logger.notice("could not save the listing for the next mount: \(error)")
            }
        }
    }

    /// A view's last answer from the store, served at once (stale, as the stored full listing is)
    /// while its first fetch runs: a remount shows `by-tag/x` without waiting for the server,
    /// and shows it when the server cannot be reached. The records are the full listing's.
    private func restoreAnswer(of filter: VideoFilter) {
        guard let store, let view = StoredView(filter), restoredViews.withLock({ $0.insert(view).inserted }),
            let full = entries.withLock({ $0[filter] == nil ? $0[VideoFilter()]?.listing?.videos : nil }),
            let numbers = store.answer(of: view)
        else { return }
        var answer = VideoTable.Builder(capacity: numbers.count)
        for number in numbers {
            // Only what the view would still show of the full listing's record (a video
            // processed since is no longer in `by-status/UNPARSE`).
            if let position = full.position(of: number), filter.matchesLocally(full[position]) ?? true {
                answer.append(row: position, of: full)
            }
        }
        let listing = Listing(videos: answer.build(), fetchedAt: clock.now - ttl - .seconds(1), isStale: true, revision: nextRevision())
        entries.withLock { all in
            if all[filter] == nil { all[filter] = Entry(listing: listing, restored: true) }
        }
    }

    /// Stores a view's answer for the next mount, off the way of whoever waits for it; the
    /// latest answer of a view is the one stored. An empty answer is not kept: a name looked up
    /// under `by-tag/` that is no tag (a file manager's probe) must not stay in the store.
    private func saveAnswer(of view: StoredView, _ videos: VideoTable) {
        guard store != nil, !videos.isEmpty else { return }
        let numbers = videos.indices.map { videos.videoNo(at: $0) }
        savingAnswers.withLock { saving in
            saving.pending[view] = numbers
            if saving.task == nil { saving.task = Task.detached(priority: .utility) { self.saveAnswers() } }
        }
    }

    private func saveAnswers() {
        while let (view, numbers) = savingAnswers.withLock({ saving -> (StoredView, [String])? in
            guard let next = saving.pending.first else {
                saving.task = nil
                return nil
            }
            saving.pending[next.key] = nil
            return (next.key, next.value)
        }) {
            do {
                try store?.saveAnswer(of: view, numbers)
            } catch {
                logger.notice("could not save a view's answer for the next mount: \(error)")
            }
        }
    }

    /// Saves the listing waiting to be saved now (a mount ending), and returns once it is.
    public func persistNow() async {
        let task = saving.withLock { $0.task }
        task?.cancel()
        await task?.value
        await savingAnswers.withLock { $0.task }?.value
    }

    /// Whether the full listing is still the one a previous mount stored (no refresh has landed).
    public var isRestored: Bool {
        entries.withLock { $0[VideoFilter()]?.restored ?? false }
    }

    /// The cached listing for `filter`, whatever its age, without any network call.
    public func cached(_ filter: VideoFilter = VideoFilter()) -> Listing? {
        restoreAnswer(of: filter)
        return entries.withLock { $0[filter]?.listing }.map(withHidden)
    }

    /// Leaves `videoNos` out of every listing from now on (deleted, the server may not know yet).
    public func hide(_ videoNos: some Sequence<String>) {
        let videoNos = Array(videoNos)
        pendingDeletes.withLock { $0.formUnion(videoNos) }
        let added = hidden.withLock { hidden in videoNos.reduce(false) { hidden.insert($1).inserted || $0 } }
        guard added else { return }
        // The listings keep them until their next fetch, and say they are hidden. The next mount
        // must not show them either (a refresh finding the same videos saves nothing).
        if let full = entries.withLock({ $0[VideoFilter()]?.listing?.videos }) { save(full) }
    }

    /// Shows `videoNos` again in listings fetched from now on (their delete was refused).
    public func unhide(_ videoNos: some Sequence<String>) {
        let videoNos = Array(videoNos)
        hidden.withLock { $0.subtract(videoNos) }
        pendingDeletes.withLock { $0.subtract(videoNos) }
    }

    /// The server has deleted `videoNos` (hidden before): it no longer lists or counts them.
    public func confirmDeleted(_ videoNos: some Sequence<String>) {
        pendingDeletes.withLock { $0.subtract(videoNos) }
    }

    /// Forgets every cached listing.
    public func invalidateAll() {
        entries.withLock { all in
            for key in all.keys { all[key]?.listing = nil }
        }
    }

}
