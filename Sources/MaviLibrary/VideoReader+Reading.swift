import Foundation
import Logging
import MaviAPI
import MaviClient
import Synchronization

/// A range of a cache file that holds bytes of a video: `length` bytes at `offset` of
/// `descriptor` (the same offset as in the video). `length` 0 means end of file.
public struct CachedFileRange: Sendable, Equatable {
    public let descriptor: Int32
    public let offset: Int64
    public let length: Int
    /// What keeps the bytes in place; 0 for none (end of file).
    let lease: Int

    static func endOfFile(at offset: UInt64) -> CachedFileRange {
        CachedFileRange(descriptor: -1, offset: Int64(min(offset, UInt64(Int64.max))), length: 0, lease: 0)
    }
}

extension VideoReader {
    /// Exactly the bytes `[offset, offset+size)` of `video` (fewer only at the end of the file).
    /// Throws a ``VideoReadError`` (its `fuseErrno` is `EIO` for data errors, `ETIMEDOUT` when
    /// the bytes did not come in time); never returns wrong bytes.
    public func read(_ video: Video, offset: UInt64, size: Int) async throws -> [UInt8] {
        guard let fileSize = video.size, fileSize >= 0 else { throw VideoReadError.unknownSize }
        guard size > 0, offset < UInt64(fileSize) else { return [] }
        let start = Int64(offset)
        let end = start + min(Int64(size), fileSize - start)
        let request = ReadRequest(
            key: CacheKey(namespace: namespace, videoNo: video.videoNo, size: fileSize), range: start..<end,
            hint: SourceHint(videoURL: video.videoURL, bucket: video.bucket, blob: video.blob))
        let granted: Int
        do {
            granted = try await readBuffers.acquire(Int(end - start))
        } catch {
            throw VideoReadError.cancelled
        }
        defer { readBuffers.release(granted) }
        let ready = try await pin(request)
        return try copyOut(request, ready)
    }

    /// Where bytes of a video lie in the cache, for answering the kernel without copying them
    /// (FUSE's `fileRange` reply, spliced when the kernel allows). The cache file holds the
    /// video's bytes at their own offsets.
    ///
    /// Waits for the bytes exactly like ``read(_:offset:size:)``. The descriptor stays open, and
    /// the bytes stay in place (not evicted), until ``release(_:)`` — call it once the reply is
    /// sent — or for ``spliceHold`` at most.
    public func cachedFileRange(_ video: Video, offset: UInt64, size: Int) async throws -> CachedFileRange {
        guard let request = try fileRangeRequest(video, offset: offset, size: size) else { return .endOfFile(at: offset) }
        return leased(try await pin(request), for: request)
    }

    /// ``cachedFileRange(_:offset:size:)`` when every byte is in the cache already: no waiting,
    /// no suspension. `nil` when some must be fetched first (or the video cannot be read), for
    /// the caller to take the waiting way.
    public func cachedFileRangeIfPresent(_ video: Video, offset: UInt64, size: Int) -> CachedFileRange? {
        let request: ReadRequest?
        do {
            request = try fileRangeRequest(video, offset: offset, size: size)
        } catch {
            return nil
        }
        guard let request else { return .endOfFile(at: offset) }
        guard let ready = pinIfPresent(request) else { return nil }
        return leased(ready, for: request)
    }

    /// The read a file range asks for; `nil` at or past the end of the video.
    private func fileRangeRequest(_ video: Video, offset: UInt64, size: Int) throws(VideoReadError) -> ReadRequest? {
        guard let fileSize = video.size, fileSize >= 0 else { throw .unknownSize }
        guard size > 0, offset < UInt64(fileSize) else { return nil }
        let start = Int64(offset)
        let end = start + min(Int64(size), fileSize - start)
        return ReadRequest(
            key: CacheKey(namespace: namespace, videoNo: video.videoNo, size: fileSize), range: start..<end,
            hint: SourceHint(videoURL: video.videoURL, bucket: video.bucket, blob: video.blob))
    }

    /// Ends the read of pinned blocks, keeping them pinned (and their file open) under a lease
    /// until the reply that hands them to the kernel is sent.
    private func leased(_ ready: PinnedRange, for request: ReadRequest) -> CachedFileRange {
        let now = ContinuousClock.now
        let (followUp, lease) = state.withLock { state in
            let followUp = state.finishRead(
                entry: ready.entry, blocks: ready.blocks, range: request.range, waited: ready.waited, served: true, keepPins: true,
                limits: limits, now: now, rangeSupport: rangeSupport.support(of:))
            return (followUp, state.lease(ready.blocks, of: ready.entry, file: ready.file, until: now + Self.spliceHold))
        }
        launch(followUp)
        return CachedFileRange(
            descriptor: ready.file.descriptor, offset: request.range.lowerBound, length: request.range.count, lease: lease)
    }

    /// The reply that used `range` has been sent: its bytes may go, and its descriptor close.
    public func release(_ range: CachedFileRange) {
        guard range.lease != 0 else { return }
        state.withLock { $0.endLease(range.lease) }
    }

    /// How long a ``cachedFileRange(_:offset:size:)`` answer stays valid at most, when it is
    /// not released: blocks pinned that long cannot make room for others.
    public static let spliceHold: Duration = .seconds(2)

    /// Bytes that are in the cache file and pinned there.
    struct PinnedRange {
        let file: CacheFile
        let entry: EntryID
        let blocks: ClosedRange<Int>
        let waited: Bool
    }

    /// Pins the request's blocks when every byte is in the cache file already.
    private func pinIfPresent(_ request: ReadRequest) -> PinnedRange? {
        let quick = state.withLock {
            $0.planRead(request, waiter: nil, limits: limits, now: .now, rangeSupport: rangeSupport.support(of:), resolveSource: resolveSource)
        }
        guard case .ready(let file, let entry, let blocks) = quick else { return nil }
        return PinnedRange(file: file, entry: entry, blocks: blocks, waited: false)
    }

    /// Waits until every byte of the request is in the cache file (starting the stream or ranged
    /// fetches as needed), and pins the blocks that hold them.
    private func pin(_ request: ReadRequest) async throws(VideoReadError) -> PinnedRange {
        // Cache hits take the short way: one look under the lock, no waiter.
        if let ready = pinIfPresent(request) { return ready }
        let waiter = ReadWaiter(id: nextWaiterID.add(1, ordering: .relaxed).newValue)
        var timer: Task<Void, Never>?
        defer { timer?.cancel() }
        var waited = false
        let timeout = configuration.readTimeout
        while true {
            var step = ReadStep.fail(.shutDown)
            var discarded: [DiscardedFile] = []
            let signal = await waiter.wait { waiter in
                let now = ContinuousClock.now
                (step, discarded) = state.withLock { state in
                    let step = state.planRead(
                        request, waiter: waiter, limits: limits, now: now, rangeSupport: rangeSupport.support(of:), resolveSource: resolveSource)
                    return (step, state.takeDiscarded())
                }
                guard case .wait(let launches) = step else { return false }
                if launches.stream != nil { logDownloadStart(for: request) }
                launch(launches)
                if timer == nil {
                    let key = request.key
                    timer = Self.startTimer(for: waiter, timeout: timeout) { self.waitsForDownloadTurn(key) }
                }
                return true
            }
            delete(discarded)
            switch step {
            case .ready(let file, let entry, let blocks):
                return PinnedRange(file: file, entry: entry, blocks: blocks, waited: waited)
            case .needFile(let entry, let key):
                try openFile(entry, key: key)
            case .fail(let error):
                throw error
            case .notReady:
                continue  // only the quick look answers this
            case .wait:
                waited = true
                switch signal {
                case .changed: continue
                case .expired:
                    let diagnosis = state.withLock { state in
                        state.withdraw(waiter.id, key: request.key)
                        return state.diagnosis(of: request.key)
                    }
                    logger.notice("read timed out", metadata: [
                        "video_no": "\(request.key.videoNo)", "offset": "\(request.range.lowerBound)", "length": "\(request.range.count)",
                        "state": "\(diagnosis)",
                    ])
                    throw .timedOut
                case .cancelled:
                    state.withLock { $0.withdraw(waiter.id, key: request.key) }
                    throw .cancelled
                }
            }
        }
    }

    /// Downloads are scarce (12 a minute): a second one of the same video says why.
    private func logDownloadStart(for request: ReadRequest) {
        let (count, diagnosis) = state.withLock { state in
            (state.byKey[request.key].flatMap { state.entries[$0]?.downloadsStarted } ?? 0, state.diagnosis(of: request.key))
        }
        let level: Logger.Level = count > 1 ? .notice : .debug
        guard logger.logLevel <= level else { return }
        logger.log(level: level, count > 1 ? "the video is downloaded again for a read" : "a read starts the download", metadata: [
            "video_no": "\(request.key.videoNo)", "offset": "\(request.range.lowerBound)", "length": "\(request.range.count)",
            "downloads": "\(count)", "state": "\(diagnosis)",
        ])
    }

    /// Expires the waiter at its deadline, and wakes it every second before that so that it
    /// looks again (a stream that stopped moving may be overtaken by ranged reads meanwhile).
    /// While `queued` says the read waits for its download's turn, the deadline keeps moving:
    /// the timeout counts from when the turn came.
    private static func startTimer(
        for waiter: ReadWaiter, timeout: Duration, queued: @escaping @Sendable () -> Bool
    ) -> Task<Void, Never> {
        Task {
            var deadline = ContinuousClock.now + timeout
            while !Task.isCancelled {
                if queued() { deadline = max(deadline, ContinuousClock.now + timeout) }
                let left = deadline - ContinuousClock.now
                guard left > .zero else { break }
                try? await Task.sleep(for: min(left, .seconds(1)))
                if ContinuousClock.now < deadline, !Task.isCancelled { waiter.wake() }
            }
            if !Task.isCancelled { waiter.expire() }
        }
    }

    /// Whether reads of `video` wait for its download's turn under the download rate limit
    /// (their request is queued, not stalled): a deadline on them should count from the turn.
    public func waitsForDownloadTurn(_ video: Video) -> Bool {
        guard let size = video.size, size >= 0 else { return false }
        return waitsForDownloadTurn(CacheKey(namespace: namespace, videoNo: video.videoNo, size: size))
    }

    func waitsForDownloadTurn(_ key: CacheKey) -> Bool {
        state.withLock { $0.waitsForDownloadTurn(key) }
    }

    private func resolveSource(_ hint: SourceHint) -> RangeSource? {
        RangeSource.of(hint, client: client)
    }

    /// Copies the pinned bytes out of the cache file, then lets the planner follow the reader.
    private func copyOut(_ request: ReadRequest, _ ready: PinnedRange) throws(VideoReadError) -> [UInt8] {
        let count = request.range.count
        let file = ready.file
        var failure: VideoReadError?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            do throws(VideoReadError) {
                try file.read(into: buffer.baseAddress!, count: count, at: request.range.lowerBound)
                initialized = count
            } catch {
                failure = error
                initialized = 0
            }
        }
        let now = ContinuousClock.now
        let followUp = state.withLock {
            $0.finishRead(
                entry: ready.entry, blocks: ready.blocks, range: request.range, waited: ready.waited, served: failure == nil,
                keepPins: false, limits: limits, now: now, rangeSupport: rangeSupport.support(of:))
        }
        launch(followUp)
        if let failure { throw failure }
        return bytes
    }

    /// Opens (creating if needed) the data file of an entry. A data file that vanished under a
    /// record that names blocks would read as zeros: those blocks are forgotten.
    ///
    /// One opening at a time: two reads starting together could otherwise both find the file
    /// missing (or not yet sized), and the second would delete the file the first just created
    /// and is writing to — the blocks written there would later be read back from the second,
    /// empty file.
    private func openFile(_ id: EntryID, key: CacheKey) throws(VideoReadError) {
        let path = layout.dataFile(key)
        do {
            try CacheFiles.makeDirectory(layout.namespaceDirectory(key.namespace))
        } catch {
            throw .cacheIO(operation: "mkdir", errno: EIO)
        }
        let opened = fileOpening.withLock { _ -> Result<Void, VideoReadError> in
            // Another read opened it meanwhile.
            guard state.withLock({ $0.entries[id].map { $0.file == nil } ?? false }) else { return .success(()) }
            if CacheFiles.fileSize(path) != key.size {
                // Missing, or another length than the key's: not the file the record describes. The
                // record goes first, so that no crash can leave it naming blocks of a new, empty file.
                CacheFiles.remove(layout.recordFile(key))
                CacheFiles.remove(path)
                state.withLock { state in
                    guard let entry = state.entries[id], entry.file == nil else { return }
                    state.forgetRecord(entry)
                }
            }
            return Result { () throws(VideoReadError) in
                let file = try CacheFile.open(path: path, size: key.size, create: true)
                state.withLock { state in
                    guard let entry = state.entries[id], entry.file == nil else { return }
                    entry.file = file
                }
            }
        }
        try opened.get()
    }
}
