import Foundation
import Logging
import MaviAPI
import MaviClient
import Synchronization

/// Reads videos of one namespace through a persistent block cache.
///
/// Every read is answered from the cache when its blocks are there; otherwise it waits (at most
/// ``CacheConfiguration/readTimeout``) for the video's one download stream, shared by all readers,
/// or — when the source has proven it honours `Range` and the bytes are far ahead of the stream —
/// for ranged fetches with a read-ahead that grows while a reader goes on sequentially.
///
/// Call ``shutdown()`` before dropping the reader: it stops the streams and makes the block
/// records durable.
public final class VideoReader: Sendable {
    let client: MaviClient
    let namespace: String
    let configuration: CacheConfiguration
    let logger: Logger
    let layout: CacheLayout
    let state: Mutex<CacheState>
    let rangeSupport: RangeSupportRegistry
    let readBuffers: ByteBudget
    let fetchSlots: ByteBudget
    /// Read-ahead may hold only part of `fetchSlots`: the rest is kept for reads that wait, so
    /// that a jump is not queued behind read-ahead for a place it left.
    let prefetchSlots: ByteBudget
    let originMeter = OriginMeter()
    let limits: PlanningLimits
    let producers = Mutex<[Int: Task<Void, Never>]>([:])
    let io = CacheIOThreads()
    private let flusher = Mutex<Task<Void, Never>?>(nil)
    private let directoryLock: CacheDirectoryLock
    /// Traffic of earlier processes, and what was last written to the traffic file.
    private let trafficBase: CacheTraffic
    private let trafficSaved = Mutex(CacheTraffic())
    let nextWaiterID = Atomic<Int>(0)
    /// Held while a data file is checked and opened (see `openFile`).
    let fileOpening = Mutex(())

    /// Opens (or creates) the cache in `configuration.directory` and loads what it holds. Throws
    /// ``CacheDirectoryError`` when the folder cannot be created or another process uses it.
    ///
    /// `namespace` must be the client's namespace (`client.configuration.namespace`), which the
    /// download endpoint uses; it is part of every cache key.
    public init(client: MaviClient, namespace: String, configuration: CacheConfiguration, logger: Logger) throws {
        self.client = client
        self.namespace = namespace
        self.configuration = configuration
        self.logger = logger
        layout = CacheLayout(directory: configuration.directory)
        directoryLock = try CacheDirectoryLock(layout: layout)
        rangeSupport = RangeSupportRegistry(file: layout.originsFile)
        let blockSize = configuration.effectiveBlockSize
        readBuffers = ByteBudget(capacity: max(configuration.maxInFlightReadBytes, 1 << 20))
        let slots = max(configuration.maxConcurrentRangeFetches, 1)
        fetchSlots = ByteBudget(capacity: slots)
        prefetchSlots = ByteBudget(capacity: max(1, slots * 3 / 4))
        let windowBlocks = max(1, configuration.maxReadAhead / blockSize)
        limits = PlanningLimits(
            useRanges: configuration.useRanges,
            maxFetchBlocks: windowBlocks,
            maxRequestBlocks: min(windowBlocks, max(1, configuration.maxRangeRequest / blockSize)),
            meter: originMeter)

        trafficBase = CacheTraffic.load(layout)
        var loaded = CacheState(blockSize: blockSize, maxBytes: configuration.effectiveMaxBytes())
        for found in CacheScanner.scan(layout, blockSize: blockSize, cleanUp: true) {
            loaded.adopt(key: found.key, present: found.present)
        }
        state = Mutex(loaded)
        trimToCapacity()
        let loadedStats = stats()
        logger.debug("cache opened", metadata: [
            "directory": "\(layout.root)", "files": "\(loadedStats.files)", "bytes": "\(loadedStats.bytesCached)",
            "max_bytes": "\(loadedStats.maxBytes)", "block_size": "\(blockSize)",
        ])
        startFlusher()
    }

    // MARK: - Handles

    /// A file handle on `video` was opened: its stream is wanted while any handle is open.
    public func opened(_ video: Video) {
        guard let size = video.size, size >= 0, !state.withLock({ $0.forgotten.contains(video.videoNo) }) else { return }
        let discarded = state.withLock { state in
            state.handleOpened(CacheKey(namespace: namespace, videoNo: video.videoNo, size: size))
            return state.takeDiscarded()
        }
        delete(discarded)
    }

    /// A file handle on `video` was closed. After the last one, a stream nobody waits on follows
    /// `StreamPolicy`, and the block record is made durable.
    public func closed(_ video: Video) {
        guard let size = video.size, size >= 0 else { return }
        let key = CacheKey(namespace: namespace, videoNo: video.videoNo, size: size)
        let (flush, stop, prefetches) = state.withLock { $0.handleClosed(key, maxBackground: configuration.maxBackgroundDownloads) }
        if let stop {
            logger.debug("stopping a download nobody waits on", metadata: ["video_no": "\(key.videoNo)"])
            cancelProducer(stop)
        }
        for fetch in prefetches { cancelProducer(fetch) }
        if let flush { register(state.withLock { $0.makeID() }) { await self.persist(flush) } }
    }

    /// The video was deleted: its streams stop, its waiting reads fail, its cache files go.
    public func forget(videoNo: String) {
        let (streams, discarded) = state.withLock { state -> ([Int], [DiscardedFile]) in
            state.forgotten.insert(videoNo)
            let ids = state.entries.values.filter { $0.key.namespace == namespace && $0.key.videoNo == videoNo }.map(\.id)
            let streams = ids.compactMap { state.removeEntry($0)?.stream?.id }
            return (streams, state.takeDiscarded())
        }
        for stream in streams { cancelProducer(stream) }
        delete(discarded)
    }

    public func stats() -> CacheStats {
        state.withLock { $0.stats() }
    }

    /// Stops every stream and fetch, waits for them, makes every block record durable, and lets
    /// go of the cache folder (another reader may open it then, even while this object lives on).
    public func shutdown() async {
        state.withLock { state in
            state.shuttingDown = true
            for entry in state.entries.values {
                entry.stream?.stopRequested = true
                state.wakeAll(entry)
            }
        }
        flusher.withLock { $0 }?.cancel()
        let running = producers.withLock { Array($0.values) }
        for task in running { task.cancel() }
        for task in running { await task.value }
        if let flushTask = flusher.withLock({ $0 }) { await flushTask.value }
        for id in state.withLock({ $0.dirtyEntries }) { await persist(id) }
        saveTraffic()
        state.withLock { state in
            for entry in state.entries.values { entry.file = nil }
        }
        await io.shutdown()
        directoryLock.release()
    }

    /// Adds this process's traffic to the cache's lifetime totals, for `mavifs cache stats`.
    private func saveTraffic() {
        let current = stats()
        let total = trafficBase + CacheTraffic(
            bytesFromCache: current.bytesFromCache, bytesFromNetwork: current.bytesFromNetwork, bytesDownloaded: current.bytesDownloaded)
        let changed = trafficSaved.withLock { saved in
            defer { saved = total }
            return saved != total
        }
        if changed { total.save(layout) }
    }

    // MARK: - Producers

    func launch(_ launches: Launches) {
        if let stream = launches.stream {
            register(stream.streamID) { await self.runStream(stream) }
        }
        for fetch in launches.fetches {
            register(fetch.fetchID) { await self.runFetch(fetch) }
        }
        for fetch in launches.cancel { cancelProducer(fetch) }
    }

    /// Starts a producer task, registered before it can finish (it removes itself at the end).
    private func register(_ id: Int, _ body: @escaping @Sendable () async -> Void) {
        producers.withLock { tasks in
            tasks[id] = Task {
                await body()
                self.producers.withLock { _ = $0.removeValue(forKey: id) }
            }
        }
    }

    func cancelProducer(_ id: Int) {
        producers.withLock { $0[id] }?.cancel()
    }

    // MARK: - Persistence

    /// Makes the entry's record durable (all of it, or only what its evictions need) and settles
    /// its evictions; one flush per file at a time.
    func persist(_ id: EntryID, scope: FlushScope = .full) async {
        guard let lock = state.withLock({ $0.entries[id]?.flushLock }) else { return }
        await lock.lock()
        defer { lock.unlock() }
        guard let job = state.withLock({ $0.beginFlush(id, scope: scope, layout: layout) }) else { return }
        let outcome = (try? await io.run { job.perform() }) ?? (false, .shutDown)
        if let error = outcome.error {
            logger.warning("cache record flush failed", metadata: ["video_no": "\(job.key.videoNo)", "error": "\(error)"])
        }
        state.withLock { $0.endFlush(id, job: job, recordWritten: outcome.recordWritten) }
    }

    private func startFlusher() {
        let interval = configuration.flushInterval
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self else { return }
                for id in self.state.withLock({ $0.dirtyEntries }) { await self.persist(id) }
                self.state.withLock { $0.sweepLeases(now: .now) }
                self.saveTraffic()
            }
        }
        flusher.withLock { $0 = task }
    }

    /// Evicts, in LRU order, whatever exceeds the cap when the cache is opened (the cap may have
    /// been lowered since the files were written).
    private func trimToCapacity() {
        while true {
            let victims = state.withLock { state -> Set<EntryID> in
                guard state.usedBytes > state.maxBytes else { return [] }
                return state.chooseVictims(toFree: state.usedBytes - state.maxBytes, demand: true)
            }
            guard !victims.isEmpty else { return }
            for id in victims {
                guard let job = state.withLock({ $0.beginFlush(id, scope: .evictions, layout: layout) }) else { continue }
                let outcome = job.perform()
                state.withLock { $0.endFlush(id, job: job, recordWritten: outcome.recordWritten) }
            }
        }
    }

    /// Deletes the files of removed entries, each after any flush of it in flight.
    func delete(_ discarded: [DiscardedFile]) {
        for file in discarded {
            register(state.withLock { $0.makeID() }) { [layout] in
                await file.flushLock.withLock {
                    CacheFiles.remove(layout.recordFile(file.key))
                    CacheFiles.remove(layout.dataFile(file.key))
                }
            }
        }
    }
}
