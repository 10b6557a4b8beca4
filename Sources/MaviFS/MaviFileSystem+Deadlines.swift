import FUSE
import Logging
import MaviAPI
import MaviClient
import MaviLibrary
import Synchronization

/// Every request that may wait on the network has a deadline: a server that stops answering makes
/// reads fail with `EIO` and directories show their last listing, never a hang.
extension MaviFileSystem {
    /// When the current metadata operation must have its answer.
    @TaskLocal static var operationDeadline: ContinuousClock.Instant?

    /// Runs a metadata operation (lookup, opendir, unlink) within `options.metadataTimeout`.
    func withMetadataDeadline<T>(_ body: () async throws -> T) async throws -> T {
        try await Self.$operationDeadline.withValue(.now + options.metadataTimeout) { try await body() }
    }

    /// A fetch of `what` for a video (a cover, subtitles) by the operation's deadline, else within
    /// the metadata timeout, failing as the kernel should hear it: EIO when the server does not
    /// answer in time or fails, EINTR when the caller gave up. A fetch past the deadline goes on,
    /// and what it brings serves the next call.
    func fetchByDeadline<T: Sendable>(_ what: String, videoNo: String, _ fetch: @escaping @Sendable () async throws -> T) async throws -> T {
        let deadline = Self.operationDeadline ?? .now + options.metadataTimeout
        do {
            return try await Deadlines.abandoning(at: deadline, cancelOnExpiry: false, fetch)
        } catch is DeadlineExpired {
            logger.warning("the server did not send \(what) in time", metadata: ["video_no": "\(videoNo)", "timeout": "\(options.metadataTimeout)"])
            throw FUSEError.ioError
        } catch is CancellationError {
            throw FUSEError.interrupted
        } catch {
            logger.warning("cannot fetch \(what): \(error)", metadata: ["video_no": "\(videoNo)"])
            throw FUSEError.ioError
        }
    }

    /// The listing for `filter` by the operation's deadline: fresh when the server answers in
    /// time, else the last one fetched (marked stale), else `EIO`.
    ///
    /// Once a refresh has overrun a deadline, later callers get the last listing at once instead
    /// of each waiting out their own deadline, until that refresh ends; its end (success or
    /// failure) is what brings fresh listings back when the server recovers.
    func list(_ filter: VideoFilter) async throws -> Listing {
        // A listing within its time to live needs no network and no deadline (the common case:
        // every lookup asks for the full listing).
        let now = ContinuousClock.now
        if let cached = catalog.cached(filter), now - cached.fetchedAt < catalog.ttl {
            return cached
        }
        let deadline = Self.operationDeadline ?? now + options.metadataTimeout
        if listingWatch.isOverdue(filter), let last = lastListing(filter) {
            return Self.stale(last)
        }
        // The full listing is overdue: the server is not answering, and this query would only
        // wait out its own deadline too. It is asked in the background instead.
        if filter != VideoFilter(), listingWatch.isOverdue(VideoFilter()), let last = lastListing(filter) {
            refreshInBackground(filter)
            return Self.stale(last)
        }
        listingWatch.started(filter)
        do {
            return try await Deadlines.abandoning(at: deadline, cancelOnExpiry: false) { [catalog, listingWatch] in
                defer { listingWatch.ended(filter) }
                return try await catalog.list(filter)
            }
        } catch is DeadlineExpired {
            listingWatch.expired(filter)
            guard let last = lastListing(filter) else {
                logger.warning("the server did not answer a listing in time, and none was cached", metadata: ["timeout": "\(options.metadataTimeout)"])
                throw FUSEError.ioError
            }
            logger.warning("the server did not answer a listing in time; serving the last one", metadata: ["timeout": "\(options.metadataTimeout)"])
            return Self.stale(last)
        } catch let error as FUSEError {
            throw error
        } catch is CancellationError {
            throw FUSEError.interrupted
        } catch {
            logger.warning("listing failed: \(error)")
            throw FUSEError.ioError
        }
    }

    /// Fetches `filter` unless a fetch of it runs already; its result is cached for the next caller.
    private func refreshInBackground(_ filter: VideoFilter) {
        guard listingWatch.startUnlessRunning(filter) else { return }
        Task { [catalog, listingWatch] in
            defer { listingWatch.ended(filter) }
            _ = try? await catalog.list(filter)
        }
    }

    /// The last listing fetched for `filter`; for a filter never fetched yet, the last full
    /// listing filtered here, as the service would filter it. A view whose first query is late
    /// (a `find` over a busy mount opens many at once) then shows what the full listing knows of
    /// it instead of failing.
    private func lastListing(_ filter: VideoFilter) -> Listing? {
        if let last = catalog.cached(filter) { return last }
        guard filter != VideoFilter(), filter.near == nil, let full = catalog.cached(VideoFilter()) else { return nil }
        return filteredFallbacks.listing(filter, from: full)
    }

    private static func stale(_ listing: Listing) -> Listing {
        var listing = listing
        listing.isStale = true
        return listing
    }

    /// `count` bytes of `video` from `offset`, within `options.readTimeout`. Whatever goes wrong
    /// is `EIO` (the reader never returns wrong bytes), except an interrupted request.
    ///
    /// The kernel asks again for a page whose read-ahead failed before it gives up, so right after
    /// a read of a video timed out, further reads of it wait only briefly: one read(2) costs the
    /// reader about one deadline, not two.
    func withReadDeadline<T: Sendable>(
        _ video: Video, offset: UInt64, count: Int, _ read: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let now = ContinuousClock.now
        let deadline = stalledVideos.deadline(for: video.videoNo, now: now, timeout: options.readTimeout)
        let content = content
        do {
            // A read queued for its download's turn (12 a minute, one every 5 s) is not stalled:
            // a sweep over many files must not fail because the queue is long.
            let result = try await Deadlines.racing(
                until: deadline, postponedBy: options.readTimeout, while: { content.waitsForDownloadTurn(video) }, read)
            stalledVideos.delivered(video.videoNo)
            return result
        } catch is DeadlineExpired {
            stalledVideos.timedOut(video.videoNo, at: .now)
            logger.warning("read timed out", metadata: [
                "video_no": "\(video.videoNo)", "offset": "\(offset)", "length": "\(count)", "timeout": "\(options.readTimeout)",
            ])
            throw FUSEError.ioError
        } catch VideoReadError.cancelled, is CancellationError {
            throw FUSEError.interrupted
        } catch VideoReadError.forgotten {
            // Deleted while the read waited (or its delete is on its way to the server).
            throw FUSEError.notFound
        } catch {
            logger.warning("read failed: \(error)", metadata: ["video_no": "\(video.videoNo)", "offset": "\(offset)", "length": "\(count)"])
            throw FUSEError.ioError
        }
    }
}

/// Which listings are being fetched, and which of those have already overrun a deadline.
final class ListingWatch: Sendable {
    private struct Fetches {
        var running = 0
        var overdue = false
    }

    private let state = Mutex<[VideoFilter: Fetches]>([:])

    func started(_ filter: VideoFilter) {
        state.withLock { $0[filter, default: Fetches()].running += 1 }
    }

    /// Counts a fetch as started, unless one is running already.
    func startUnlessRunning(_ filter: VideoFilter) -> Bool {
        state.withLock { all in
            guard all[filter] == nil else { return false }
            all[filter] = Fetches(running: 1)
            return true
        }
    }

    func ended(_ filter: VideoFilter) {
        state.withLock { all in
            guard var f = all[filter] else { return }
            f.running -= 1
            all[filter] = f.running > 0 ? f : nil
        }
    }

    /// A caller gave up waiting: marked only while a fetch still runs, so the mark cannot outlive it.
    func expired(_ filter: VideoFilter) {
        state.withLock { all in
            if all[filter]?.running ?? 0 > 0 { all[filter]?.overdue = true }
        }
    }

    func isOverdue(_ filter: VideoFilter) -> Bool {
        state.withLock { $0[filter]?.overdue ?? false }
    }
}

/// Videos whose reads ran out of time recently. Until one of their reads succeeds again, or a
/// deadline's length has passed, their reads wait only ``retryWait``.
final class StalledVideos: Sendable {
    private let marks = Mutex<[String: ContinuousClock.Instant]>([:])

    /// Long enough for bytes already on their way, short against any deadline.
    static let retryWait: Duration = .seconds(1)

    func deadline(for videoNo: String, now: ContinuousClock.Instant, timeout: Duration) -> ContinuousClock.Instant {
        marks.withLock { marks in
            guard let mark = marks[videoNo] else { return now + timeout }
            guard now - mark < timeout else {
                marks[videoNo] = nil
                return now + timeout
            }
            return now + min(Self.retryWait, timeout)
        }
    }

    func timedOut(_ videoNo: String, at instant: ContinuousClock.Instant) {
        marks.withLock { $0[videoNo] = instant }
    }

    func delivered(_ videoNo: String) {
        marks.withLock { marks in
            if marks[videoNo] != nil { marks[videoNo] = nil }
        }
    }
}

/// Views filtered from the full listing while their own queries are late, kept for as long as
/// that full listing is the last one: every lookup in such a view asks again, and each filtering
/// walks the whole library.
final class FilteredFallbacks: Sendable {
    private struct Made {
        /// The full listing's fetch, and how many videos it held. Videos deleted through the
        /// mount since are left out by the hidden set the full listing carries now.
        var from: UInt64?
        var count = 0
        var listings: [VideoFilter: Listing] = [:]
    }

    private let made = Mutex(Made())

    func listing(_ filter: VideoFilter, from full: Listing) -> Listing {
        let same = { (made: Made) in made.from == full.revision && made.count == full.videos.count }
        if var hit = made.withLock({ same($0) ? $0.listings[filter] : nil }) {
            // Deleted through the mount since it was made: left out as the full listing leaves them out.
            hit.hidden = full.hidden
            return hit
        }
        var filtered = full
        filtered.videos = full.videos.keeping { filter.matchesLocally(full.videos[$0]) ?? false }
        made.withLock { made in
            if !same(made) { made = Made(from: full.revision, count: full.videos.count) }
            made.listings[filter] = filtered
        }
        return filtered
    }
}
