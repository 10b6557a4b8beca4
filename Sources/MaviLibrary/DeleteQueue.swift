import Foundation
import Logging
import MaviAPI
import MaviClient
import Synchronization

/// The deletes a mount was asked for (`rm` with `--allow-delete`), sent to the server in batches
/// behind a journal on disk.
///
/// ``request(_:)`` returns once the delete is durable in the ``DeleteJournal``; from then on the
/// video is hidden from every listing of the catalog. A sender sends what is pending in calls of
/// up to 100 ids, paced within the endpoint's 5 calls a second, and lets a batch gather the
/// deletes that arrive within a short window after its first: one `rm` reaches the server within
/// a fraction of a second, and `find -delete` over thousands of files goes in a handful of calls.
///
/// A batch the server confirms is done. A transient failure (503, `0429`, the network, a deadline)
/// is tried again with a growing delay, for as long as it takes. A permanent refusal (`0401`,
/// `0403`, `9009`, a parameter error) ends those deletes: the videos show again, and
/// ``stats()`` and the log say which and why; a parameter error is first narrowed down by halving
/// the batch, so that one bad id does not take the others with it. Deletes still pending when
/// the process ends are sent by the next one, which loads the journal first (deleting twice is
/// harmless: the endpoint ignores ids it no longer has).
public final class DeleteQueue: Sendable {
    public struct Settings: Sendable {
        /// Ids per call, at most the endpoint's 100.
        public var batchSize: Int
        /// How long a batch waits after its first delete for others to join it.
        public var gather: Duration
        /// Between the starts of two calls: the endpoint allows 5 a second, counted from answers.
        public var interval: Duration
        /// The first delay before a failed batch is tried again; it doubles up to `maxRetryDelay`.
        public var retryDelay: Duration
        public var maxRetryDelay: Duration

        public init(
            batchSize: Int = APILimits.maxDeleteBatch, gather: Duration = .milliseconds(100), interval: Duration = .milliseconds(210),
            retryDelay: Duration = .seconds(1), maxRetryDelay: Duration = .seconds(30)
        ) {
            self.batchSize = min(max(1, batchSize), APILimits.maxDeleteBatch)
            self.gather = gather
            self.interval = interval
            self.retryDelay = retryDelay
            self.maxRetryDelay = maxRetryDelay
        }
    }

    /// Deletes the server refused for good, and why.
    public struct Refusal: Sendable, Equatable, Codable {
        public var videoNos: [String]
        public var reason: String
    }

    public struct Stats: Sendable, Equatable {
        /// Recorded and not yet confirmed (including a batch on its way).
        public var pending = 0
        /// Confirmed by the server since this process started.
        public var confirmed = 0
        /// Refused for good since this process started.
        public var refused = 0
        /// Calls made to the delete endpoint (every attempt).
        public var calls = 0
        /// Pending deletes this process found in the journal when it started.
        public var replayed = 0
        /// The last call failed and is being tried again.
        public var retrying = false
        public var lastError: String?
        /// The latest refusals, newest last (a few).
        public var refusals: [Refusal] = []

        public init() {}
    }

    private struct State {
        /// Pending and not on their way, in the order requested.
        var queue: [String] = []
        var inFlight: [String] = []
        var pending = Set<String>()
        /// When the oldest queued delete was requested (for the gathering window).
        var queuedSince: Duration?
        var lastCall: Duration?
        /// Ids per call for now: halved while a parameter error is narrowed down.
        var batchLimit: Int
        var draining = false
        /// The drain's time is up: nobody waits for the queue to empty any more.
        var drainOver = false
        var stopped = false
        var wake: CheckedContinuation<Void, Never>?
        var idle: [CheckedContinuation<Void, Never>] = []
        var stats = Stats()
    }

    public let settings: Settings
    private let journal: DeleteJournal
    private let source: any VideoListingSource
    private let catalog: VideoCatalog
    private let clock: TimeSource
    private let logger: Logger
    private let state: Mutex<State>
    private let sender = Mutex<Task<Void, Never>?>(nil)

    /// Where the journal of a namespace on an endpoint lives in a cache directory (one per
    /// server too: a delete recorded for one server is never sent to another).
    public static func journalPath(cacheDirectory: String, endpoint: String, namespace: String) -> String {
        let folder = (cacheDirectory as NSString).appendingPathComponent("deletes")
        return (folder as NSString).appendingPathComponent(CacheLayout.stateFileName(endpoint: endpoint, namespace: namespace) + ".journal")
    }

    /// Loads the journal at `journalPath` (creating it) and hides what it holds pending from
    /// `catalog`'s listings. Nothing is sent before ``start()``.
    public init(
        journalPath: String, source: any VideoListingSource, catalog: VideoCatalog, settings: Settings = Settings(),
        clock: TimeSource = .continuous, logger: Logger
    ) throws(DeleteJournalError) {
        let (journal, loaded) = try DeleteJournal.open(path: journalPath)
        self.journal = journal
        self.source = source
        self.catalog = catalog
        self.settings = settings
        self.clock = clock
        self.logger = logger
        var initial = State(batchLimit: settings.batchSize)
        initial.queue = loaded.pending
        initial.pending = Set(loaded.pending)
        initial.queuedSince = loaded.pending.isEmpty ? nil : clock.now
        initial.stats.pending = loaded.pending.count
        initial.stats.replayed = loaded.pending.count
        state = Mutex(initial)
        catalog.hide(loaded.pending)
        if loaded.discardedBytes > 0 {
            logger.warning("the delete journal ended in a torn record (a crash while it was written); its intact records are kept", metadata: [
                "journal": "\(journalPath)", "discarded_bytes": "\(loaded.discardedBytes)",
            ])
        }
        if !loaded.pending.isEmpty {
            logger.notice("\(loaded.pending.count) deletes recorded by an earlier mount are sent again", metadata: ["journal": "\(journalPath)"])
        }
    }

    /// Starts sending.
    public func start() {
        sender.withLock { task in
            guard task == nil else { return }
            task = Task { await self.run() }
        }
    }

    /// Records the delete of `videoNo`, durably, and hides the video from every listing. Throws
    /// when the journal could not be written: then nothing is promised and nothing changed.
    public func request(_ videoNo: String) throws(DeleteJournalError) {
        guard !videoNo.isEmpty else { return }
        // Held while appending, so that the journal's order is the queue's.
        let accepted: Bool = try state.withLock { (state: inout State) throws(DeleteJournalError) -> Bool in
            guard !state.stopped, !state.pending.contains(videoNo) else { return !state.stopped }
            try journal.append(.init(kind: .requested, videoNos: [videoNo]))
            // Hidden under the lock: a refusal (which shows it again) cannot come first.
            catalog.hide([videoNo])
            state.queue.append(videoNo)
            state.pending.insert(videoNo)
            state.stats.pending = state.pending.count
            if state.queuedSince == nil { state.queuedSince = clock.now }
            state.wake?.resume()
            state.wake = nil
            return true
        }
        guard accepted else { throw .io(operation: "record the delete of \(videoNo)", errno: ESHUTDOWN) }
    }

    /// Whether a delete of `videoNo` is recorded and not yet confirmed.
    public func isPending(_ videoNo: String) -> Bool {
        state.withLock { $0.pending.contains(videoNo) }
    }

    public func stats() -> Stats {
        state.withLock { $0.stats }
    }

    /// Stops without sending anything more (a mount that failed to start); what is pending stays
    /// in the journal for the next mount.
    public func close() async {
        state.withLock { state in
            state.stopped = true
            state.wake?.resume()
            state.wake = nil
        }
        releaseIdleWaiters()
        let task = sender.withLock { $0 }
        task?.cancel()
        await task?.value
        journal.close()
    }

    /// Sends what is pending without waiting to gather more, for at most `limit`, then stops
    /// the sender. Returns how many deletes are left for the next mount.
    public func drain(within limit: Duration) async -> Int {
        let done: Bool = state.withLock { state in
            state.draining = true
            state.wake?.resume()
            state.wake = nil
            return state.pending.isEmpty
        }
        if !done {
            let deadline = ContinuousClock.now + limit
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.waitUntilIdle() }
                group.addTask { try? await Task.sleep(until: deadline, clock: .continuous) }
                await group.next()
                group.cancelAll()
                self.state.withLock { $0.drainOver = true }
                self.releaseIdleWaiters()
            }
        }
        let left = state.withLock { state in
            state.stopped = true
            state.wake?.resume()
            state.wake = nil
            return state.pending.count
        }
        let task = sender.withLock { $0 }
        task?.cancel()
        await task?.value
        journal.close()
        if left > 0 {
            logger.notice("\(left) deletes are recorded but not yet confirmed; the next mount of this cache sends them")
        }
        return left
    }

    // MARK: - Sending

    private func run() async {
        var failures = 0
        while !Task.isCancelled {
            guard await waitForWork() else { return }
            // The batch goes when its gathering window is over (at once while draining, or when
            // it is full) and the endpoint's pace allows.
            let now = clock.now
            let due = state.withLock { state -> Duration in
                var due = state.lastCall.map { $0 + settings.interval } ?? now
                if !state.draining, state.queue.count < state.batchLimit, let since = state.queuedSince {
                    due = max(due, since + settings.gather)
                }
                return due
            }
            if due > now {
                do { try await clock.sleep(until: due) } catch { return }
            }
            let batch = state.withLock { state -> [String] in
                let batch = Array(state.queue.prefix(state.batchLimit))
                guard !batch.isEmpty else { return batch }
                state.queue.removeFirst(batch.count)
                state.inFlight = batch
                state.queuedSince = state.queue.isEmpty ? nil : clock.now
                state.lastCall = clock.now
                state.stats.calls += 1
                return batch
            }
            guard !batch.isEmpty else { continue }
            do {
                try await source.delete(videoNos: batch)
                failures = 0
                confirmed(batch)
            } catch {
                if Task.isCancelled {
                    putBack(batch)
                    return
                }
                let client = error as? MaviClientError
                if !Self.isRefusal(client) {
                    failures += 1
                    let delay = min(settings.retryDelay * (1 << min(failures - 1, 16)), settings.maxRetryDelay)
                    putBack(batch, error: "\(error)")
                    logger.notice("deleting videos failed; trying again", metadata: [
                        "count": "\(batch.count)", "error": "\(error)", "attempt": "\(failures)",
                        "delay_ms": "\(Int(delay.secondsValue * 1000))",
                    ])
                    do { try await clock.sleep(for: delay) } catch { return }
                } else if case .invalidParameter = client, batch.count > 1 {
                    // One bad id refuses the whole call: halve the batch until it stands alone.
                    state.withLock { $0.batchLimit = max(1, batch.count / 2) }
                    putBack(batch, error: "\(error)")
                } else {
                    refused(batch, reason: "\(error)")
                }
            }
        }
    }

    /// Whether the server refused the deletes for good: a bad key (`0401`), a disabled account
    /// (`0403`), no permission (`9009`), a parameter error. Anything else (a passing failure, a
    /// reply not understood, another code) keeps them pending and is tried again.
    static func isRefusal(_ error: MaviClientError?) -> Bool {
        switch error {
        case .unauthorized, .accountDisabled, .permissionDenied, .invalidParameter: true
        case .httpStatus(let failure): failure.status == 401 || failure.status == 403
        default: false
        }
    }

    /// Waits until something is queued (or the queue stops). `false` when it stopped.
    private func waitForWork() async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.stopped || !state.queue.isEmpty { return true }
                state.wake = continuation
                return false
            }
            if ready { continuation.resume() }
        }
        return state.withLock { !$0.stopped }
    }

    private func confirmed(_ batch: [String]) {
        // Recorded for the next mount's sake only: were it lost, the ids would be sent again.
        try? journal.append(.init(kind: .confirmed, videoNos: batch))
        catalog.confirmDeleted(batch)
        settle(batch) { $0.confirmed += batch.count }
        logger.info("deleted videos", metadata: ["count": "\(batch.count)"])
    }

    private func refused(_ batch: [String], reason: String) {
        do {
            try journal.append(.init(kind: .refused, videoNos: batch))
        } catch {
            // Shown again without this record, a later mount would still delete them: they stay
            // pending and hidden, and the refusal is asked again.
            putBack(batch, error: "\(reason); and the journal could not record it: \(error)")
            return
        }
        settle(batch) { stats in
            stats.refused += batch.count
            stats.lastError = reason
            stats.refusals.append(Refusal(videoNos: batch, reason: reason))
            if stats.refusals.count > 8 { stats.refusals.removeFirst() }
        }
        logger.error("the server refused to delete \(batch.count) videos; they stay in the library", metadata: [
            "video_nos": "\(batch.prefix(10).joined(separator: ","))\(batch.count > 10 ? ",…" : "")", "reason": "\(reason)",
        ])
        catalog.unhide(batch)
        catalog.invalidateAll()
    }

    /// The batch is done with, one way or the other (`count` says which): no longer pending,
    /// the batch size back to full, and the journal emptied when nothing is left.
    private func settle(_ batch: [String], count: (inout Stats) -> Void) {
        let empty = state.withLock { state -> Bool in
            state.inFlight = []
            for no in batch { state.pending.remove(no) }
            state.batchLimit = settings.batchSize
            state.stats.pending = state.pending.count
            state.stats.retrying = false
            state.stats.lastError = nil
            count(&state.stats)
            return emptyJournalIfDone(state)
        }
        if empty { releaseIdleWaiters() }
    }

    /// Empties the journal when nothing is pending. Called under the state's lock, which
    /// ``request(_:)`` holds while it appends: no delete recorded meanwhile can be cut off.
    private func emptyJournalIfDone(_ state: State) -> Bool {
        guard state.pending.isEmpty else { return false }
        journal.truncate()
        return true
    }

    /// A batch that was not done goes back to the front of the queue.
    private func putBack(_ batch: [String], error: String? = nil) {
        state.withLock { state in
            state.queue.insert(contentsOf: batch, at: 0)
            state.inFlight = []
            if state.queuedSince == nil { state.queuedSince = clock.now }
            if let error {
                state.stats.retrying = true
                state.stats.lastError = error
            }
        }
    }

    private func waitUntilIdle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { state -> Bool in
                if state.pending.isEmpty || state.stopped || state.drainOver { return true }
                state.idle.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    private func releaseIdleWaiters() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            defer { state.idle.removeAll() }
            return state.idle
        }
        for waiter in waiters { waiter.resume() }
    }
}
