/// One read, as the planner sees it.
struct ReadRequest {
    let key: CacheKey
    let range: Range<Int64>
    let hint: SourceHint
}

/// The listing's fields that say where ranged reads may go; resolved into a ``RangeSource`` only
/// when a read misses and they changed (signed CDN URLs do).
struct SourceHint: Equatable {
    var videoURL: String?
    var bucket: String?
    var blob: String?
}

/// Work a read (or a prefetch) asks to start once it has left the lock.
struct Launches: Sendable {
    var stream: StreamTicket?
    var fetches: [FetchTicket] = []
    /// Prefetches nobody will read any more (their reader jumped elsewhere, or left): stop them.
    var cancel: [Int] = []
}

struct StreamTicket: Sendable {
    let entry: EntryID
    let streamID: Int
    let key: CacheKey
    let file: CacheFile
}

struct FetchTicket: Sendable {
    let entry: EntryID
    let fetchID: Int
    let blocks: ClosedRange<Int>
    let source: RangeSource
    let geometry: BlockGeometry
    /// A reader waits for these blocks (rather than a prefetch that nobody asked for yet).
    let demand: Bool
    let file: CacheFile
    /// Where inside the first block the fetch begins, when it begins at the waiting read rather
    /// than at the block's first byte; a second request brings the bytes before it.
    var lead: Int64? = nil
}

/// What a read does next.
enum ReadStep {
    /// Every byte is readable; the blocks are pinned until ``CacheState/finishRead``.
    case ready(file: CacheFile, entry: EntryID, blocks: ClosedRange<Int>)
    /// The data file must be opened first (outside the lock).
    case needFile(EntryID, CacheKey)
    /// The read is registered as waiting; start these producers.
    case wait(Launches)
    /// Not cached, and no waiter was given to register.
    case notReady
    case fail(VideoReadError)
}

/// The knobs planning needs, from the configuration.
struct PlanningLimits {
    let useRanges: Bool
    /// The largest read-ahead window, in blocks.
    let maxFetchBlocks: Int
    /// The most blocks one ranged request asks for.
    let maxRequestBlocks: Int
    /// What each origin's link has shown; sets the size of requests to it (at most
    /// `maxRequestBlocks`). Without it, every request may be that large.
    var meter: OriginMeter? = nil

    func requestBlocks(to source: RangeSource, blockSize: Int) -> Int {
        meter?.requestBlocks(origin: source.origin, blockSize: blockSize, maxBlocks: maxRequestBlocks) ?? maxRequestBlocks
    }
}

extension CacheState {
    /// Decides how a read gets its bytes: at once if they are cached, else by waiting on the
    /// stream or on ranged fetches, started here as needed. Registers `waiter` when it must wait
    /// (in the same critical section as the check, so no wake can be missed). Without a waiter,
    /// only answers whether the bytes are there, changing nothing (the fast path of cache hits).
    mutating func planRead(
        _ request: ReadRequest, waiter: ReadWaiter?, limits: PlanningLimits, now: ContinuousClock.Instant,
        rangeSupport: (String) -> RangeSupportRegistry.Support, resolveSource: (SourceHint) -> RangeSource?
    ) -> ReadStep {
        guard !shuttingDown else { return .fail(.shutDown) }
        guard !forgotten.contains(request.key.videoNo) else { return .fail(.forgotten) }
        let entry = entry(for: request.key)
        if let waiter { withdraw(waiter.id, from: entry) }
        guard let blocks = entry.geometry.blocks(covering: request.range) else { return .fail(.cacheIO(operation: "plan", errno: 22)) }

        let missing = blocks.filter { !isReadable(entry, block: $0, reading: request.range) }
        // Resolved once on a hit too, so that a reader going on through cached blocks reads ahead
        // beyond them; compared again only on a miss (signed URLs change), not on every hit.
        if entry.sourceHint == nil || (!missing.isEmpty && entry.sourceHint != request.hint) {
            entry.sourceHint = request.hint
            entry.source = resolveSource(request.hint)
        }
        guard let file = entry.file else { return .needFile(entry.id, entry.key) }
        if missing.isEmpty {
            for block in blocks { entry.slots[block].pins += 1 }
            entry.activeReads += 1
            return .ready(file: file, entry: entry.id, blocks: blocks)
        }
        guard let waiter else { return .notReady }

        let rangesUsable = rangesUsable(entry, limits: limits, rangeSupport: rangeSupport)
        var launches = Launches()
        var waitsOnStream = false
        var startStream = false
        var byRange: [Int] = []
        for block in missing {
            switch entry.slots[block].phase {
            case .writing:
                if entry.stream?.writingBlock == block { waitsOnStream = true }
                continue
            case .evicting, .present:
                continue  // the eviction's end (or the next look) wakes this read
            case .absent:
                break
            }
            switch producer(for: block, of: entry, rangesUsable: rangesUsable, now: now) {
            case .stream: waitsOnStream = true
            case .range: byRange.append(block)
            case .newStream: startStream = true
            case .streamEnd: break
            case .failed(let error): return .fail(error)
            }
        }
        if startStream { launches.stream = beginStream(entry, file: file, now: now) }
        if !byRange.isEmpty, let source = entry.source {
            let readAhead = cursor(of: entry, at: request.range.lowerBound)?.window ?? 1
            // A read deep inside its first block, from an origin known to honour Range, starts
            // its fetch where it starts: a player's jump to the index at the end of a file
            // should not wait for the megabytes before it in the block.
            let lead = rangeSupport(source.origin) == .honoured ? request.range.lowerBound : nil
            launches.fetches = claimFetches(
                entry, blocks: byRange, readAhead: readAhead, demand: true, source: source, file: file, limits: limits, lead: lead)
        }
        var pinned: [Int] = []
        for block in blocks where entry.slots[block].phase == .present {
            entry.slots[block].pins += 1
            pinned.append(block)
        }
        entry.waiters[waiter.id] = WaitRegistration(
            waiter: waiter, wakeAtStreamPosition: waitsOnStream ? request.range.upperBound : nil, pinned: pinned, blocks: blocks,
            range: request.range)
        return .wait(launches)
    }

    /// Removes a waiter's registration (it woke, timed out or was cancelled), unpinning its blocks.
    mutating func withdraw(_ waiterID: Int, from entry: VideoEntry) {
        guard let old = entry.waiters.removeValue(forKey: waiterID) else { return }
        for block in old.pinned { entry.slots[block].pins -= 1 }
    }

    mutating func withdraw(_ waiterID: Int, key: CacheKey) {
        guard let id = byKey[key], let entry = entries[id] else { return }
        withdraw(waiterID, from: entry)
        releaseFileIfIdle(entry)
    }

    /// A read's bytes were copied out: unpin, count, follow the reader for read-ahead, and claim
    /// ranged prefetches if the reader is sequential in a part of the file the stream is far from.
    mutating func finishRead(
        entry id: EntryID, blocks: ClosedRange<Int>, range: Range<Int64>, waited: Bool, served: Bool, keepPins: Bool,
        limits: PlanningLimits, now: ContinuousClock.Instant, rangeSupport: (String) -> RangeSupportRegistry.Support
    ) -> Launches {
        sweepLeases(now: now)
        if served {
            if waited { counters.bytesAfterWaiting += Int64(range.count) } else { counters.bytesFromCache += Int64(range.count) }
        }
        guard let entry = entries[id] else { return Launches() }
        entry.activeReads -= 1
        for block in blocks {
            if !keepPins { entry.slots[block].pins -= 1 }
            if entry.slots[block].phase == .present {
                entry.slots[block].consumed = true
                lru.touch(BlockRef(entry: id, block: block))
            }
        }
        var launches = Launches()
        guard served else {
            releaseFileIfIdle(entry)
            return launches
        }
        let (cursor, window, abandoned) = advanceCursor(of: entry, read: range, waited: waited, limits: limits)
        if let abandoned { launches.cancel = uselessPrefetches(of: entry, cursor: abandoned) }
        if let window, let source = entry.source, let file = entry.file,
           rangesUsable(entry, limits: limits, rangeSupport: rangeSupport), range.upperBound < entry.key.size {
            let first = entry.geometry.block(containing: range.upperBound)
            let last = min(first + window - 1, entry.geometry.blockCount - 1)
            var wanted: [Int] = []
            for block in first...last where entry.slots[block].phase == .absent {
                guard case .range = producer(for: block, of: entry, rangesUsable: true, now: now) else { break }
                wanted.append(block)
            }
            if !wanted.isEmpty {
                launches.fetches = claimFetches(
                    entry, blocks: wanted, readAhead: 0, demand: false, source: source, file: file, limits: limits, cursor: cursor)
            }
        }
        releaseFileIfIdle(entry)
        return launches
    }

    /// The prefetches made for `cursor` (or for any cursor, when `nil`) whose blocks no waiting
    /// read needs.
    func uselessPrefetches(of entry: VideoEntry, cursor: Int?) -> [Int] {
        entry.prefetches.compactMap { fetchID, prefetch in
            guard cursor == nil || prefetch.cursor == cursor else { return nil }
            return prefetch.blocks.contains(where: entry.isAwaited) ? nil : fetchID
        }
    }

    // MARK: - Leases

    /// Keeps blocks pinned and their file open until the lease is ended, or `until` at the latest
    /// (for replies that hand the kernel a range of the cache file). Returns the lease's id.
    mutating func lease(_ blocks: ClosedRange<Int>, of entry: EntryID, file: CacheFile, until: ContinuousClock.Instant) -> Int {
        let id = makeID()
        leases[id] = Lease(until: until, entry: entry, blocks: blocks, file: file)
        leaseExpiries.append((until, id))
        return id
    }

    /// Ends a lease now: its reply has been sent.
    mutating func endLease(_ id: Int) {
        guard let lease = leases.removeValue(forKey: id), let entry = entries[lease.entry] else { return }
        for block in lease.blocks { entry.slots[block].pins -= 1 }
    }

    /// Ends the leases that expired (kept in the order they expire).
    mutating func sweepLeases(now: ContinuousClock.Instant) {
        while leaseHead < leaseExpiries.count, leaseExpiries[leaseHead].until <= now {
            endLease(leaseExpiries[leaseHead].id)
            leaseHead += 1
        }
        if leaseHead > 64, leaseHead * 2 > leaseExpiries.count {
            leaseExpiries.removeFirst(leaseHead)
            leaseHead = 0
        }
    }

    // MARK: - Deciding producers

    enum Producer {
        /// The running stream will write it soon: wait.
        case stream
        /// Fetch it by Range.
        case range
        /// No stream runs and the source ignores Range: start one.
        case newStream
        /// The running stream has passed it (or is stopping); its end starts the next pass.
        case streamEnd
        case failed(VideoReadError)
    }

    /// Who should produce an absent block.
    ///
    /// Range first: while the video's source may honour Range (it did, or has not been asked
    /// yet), blocks come by ranged requests and the rate-limited download endpoint is never
    /// called; the first ranged request is the probe, and a source that ignores it falls back to
    /// the stream for its readers. Only then is the download stream the backbone, filling the
    /// whole file in one pass from byte 0. A stream can also be running for a source that
    /// honours Range (started while the source was range-less for this video, after repeated
    /// failed fetches): a block far ahead of it (more than about half a second of its pace, at
    /// least two blocks) is then fetched by Range, so that a seek does not wait for the stream,
    /// and a stream that has brought nothing for a second (waiting for the download rate limit,
    /// or stalled) does not hold reads up either.
    func producer(for block: Int, of entry: VideoEntry, rangesUsable: Bool, now: ContinuousClock.Instant) -> Producer {
        let start = entry.geometry.start(of: block)
        let nearStart = Int64(2 * blockSize)
        if let stream = entry.stream {
            if stream.stopRequested { return rangesUsable ? .range : .streamEnd }
            if start >= stream.position {
                // A stream that has not moved for a while is no reason to wait when Range works.
                if rangesUsable, stream.isStale(now: now), stream.writingBlock != block { return .range }
                let rate = stream.rate(now: now) ?? 0
                let lookahead = max(nearStart, Int64(rate * 0.5))
                return rangesUsable && start > stream.position + lookahead ? .range : .stream
            }
            return rangesUsable ? .range : .streamEnd
        }
        if rangesUsable { return .range }
        if let failure = entry.lastFailure, now < failure.until { return .failed(failure.error) }
        return .newStream
    }

    func rangesUsable(_ entry: VideoEntry, limits: PlanningLimits, rangeSupport: (String) -> RangeSupportRegistry.Support) -> Bool {
        guard limits.useRanges, !entry.rangeDisabled, let source = entry.source else { return false }
        return rangeSupport(source.origin) != .ignored
    }

    /// Whether a read of `range` can take its bytes of `block` now.
    func isReadable(_ entry: VideoEntry, block: Int, reading range: Range<Int64>) -> Bool {
        let slot = entry.slots[block]
        if slot.phase == .present { return true }
        guard slot.phase == .writing else { return false }
        let blockStart = entry.geometry.start(of: block)
        let needed = range.clamped(to: blockStart..<entry.geometry.end(of: block))
        // The stream's own block is valid up to where this pass has written.
        if let stream = entry.stream, stream.writingBlock == block, slot.writer == stream.id {
            return needed.upperBound <= stream.position
        }
        // A ranged fetch's block, where it has written.
        return slot.holds((needed.lowerBound - blockStart)..<(needed.upperBound - blockStart))
    }

    // MARK: - Claiming work

    mutating func beginStream(_ entry: VideoEntry, file: CacheFile, now: ContinuousClock.Instant) -> StreamTicket {
        let id = makeID()
        entry.stream = StreamProgress(id: id, attemptStarted: now, lastProgress: now)
        entry.downloadsStarted += 1
        entry.lastFailure = nil
        counters.downloadsStarted += 1
        return StreamTicket(entry: entry.id, streamID: id, key: entry.key, file: file)
    }

    /// Bytes a read must lie inside its first block before its fetch starts at the read (see
    /// ``FetchTicket/lead``); closer to the block's start, one request for the whole block is
    /// about as quick.
    static let leadThreshold: Int64 = 128 << 10

    /// Claims `blocks` (ascending, absent) plus up to `readAhead` absent blocks after the last,
    /// as contiguous runs of the size the source's link calls for, one ranged fetch each. With
    /// `lead` (where the read waiting for the first block starts), that block's fetch begins
    /// there, 64 KiB aligned, when that is at least ``leadThreshold`` into the block.
    mutating func claimFetches(
        _ entry: VideoEntry, blocks: [Int], readAhead: Int, demand: Bool, source: RangeSource, file: CacheFile,
        limits: PlanningLimits, cursor: Int? = nil, lead: Int64? = nil
    ) -> [FetchTicket] {
        var leadOffset: Int64?
        if let lead, let first = blocks.first, entry.geometry.block(containing: lead) == first {
            let aligned = lead & ~Int64((64 << 10) - 1)
            if aligned - entry.geometry.start(of: first) >= Self.leadThreshold { leadOffset = aligned }
        }
        var wanted = blocks
        if let last = blocks.last, readAhead > 0 {
            var next = last + 1
            while next < entry.geometry.blockCount, next <= last + readAhead, entry.slots[next].phase == .absent {
                wanted.append(next)
                next += 1
            }
        }
        let requestBlocks = limits.requestBlocks(to: source, blockSize: blockSize)
        var tickets: [FetchTicket] = []
        var run: [Int] = []
        func flush() {
            guard let first = run.first, let last = run.last else { return }
            let id = makeID()
            for block in run {
                entry.slots[block].phase = .writing
                entry.slots[block].writer = id
            }
            entry.activeFetches += 1
            if let cursor { entry.prefetches[id] = Prefetch(cursor: cursor, blocks: first...last) }
            counters.rangeRequests += 1
            var ticket = FetchTicket(
                entry: entry.id, fetchID: id, blocks: first...last, source: source, geometry: entry.geometry,
                demand: demand, file: file)
            if let offset = leadOffset, first == blocks.first {
                ticket.lead = offset
                let relative = offset - entry.geometry.start(of: first)
                entry.slots[first].leadStart = relative
                entry.slots[first].leadEnd = relative
                counters.rangeRequests += 1
            }
            tickets.append(ticket)
            run.removeAll()
        }
        for block in wanted where entry.slots[block].phase == .absent {
            if let last = run.last, last + 1 != block || run.count >= requestBlocks { flush() }
            run.append(block)
        }
        flush()
        return tickets
    }

    // MARK: - Read-ahead

    /// How far from where a cursor expects the next read a read may start and still continue
    /// it: the kernel sends a sequential reader's read-ahead as several requests at once, and
    /// they may arrive out of order.
    static let cursorSlack: Int64 = 1 << 20

    func cursor(of entry: VideoEntry, at offset: Int64) -> ReadCursor? {
        entry.cursors.first { $0.continues(at: offset) }
    }

    /// Moves the cursor that this read continues (or starts a new one). Returns the cursor, its
    /// read-ahead window in blocks when the read was sequential (`nil` after a jump), and the
    /// cursor a jump replaced, whose prefetches nobody will read.
    ///
    /// The window doubles each time the reader enters another block, and, once the reader has
    /// proven a stream (a megabyte read on in order), each time a read had to wait: the
    /// read-ahead is not ahead of the reader yet, so over a long link it reaches the link's rate
    /// within a few reads instead of a few blocks.
    mutating func advanceCursor(
        of entry: VideoEntry, read range: Range<Int64>, waited: Bool = false, limits: PlanningLimits
    ) -> (cursor: Int, window: Int?, replaced: Int?) {
        tick += 1
        let geometry = entry.geometry
        let last = max(geometry.fileSize - 1, 0)
        if let index = entry.cursors.firstIndex(where: { $0.continues(at: range.lowerBound) }) {
            let before = entry.cursors[index].nextOffset
            let proven = entry.cursors[index].isProvenStream
            let after = max(before, range.upperBound)
            entry.cursors[index].nextOffset = after
            entry.cursors[index].lastUse = tick
            if (waited && proven) || geometry.block(containing: min(before, last)) != geometry.block(containing: min(after, last)) {
                entry.cursors[index].window = min(entry.cursors[index].window * 2, limits.maxFetchBlocks)
            }
            return (entry.cursors[index].id, entry.cursors[index].window, nil)
        }
        let fresh = ReadCursor(id: makeID(), start: range.lowerBound, nextOffset: range.upperBound, window: 1, lastUse: tick)
        var replaced: Int?
        if entry.cursors.count < ReadCursor.perFile {
            entry.cursors.append(fresh)
        } else if let oldest = entry.cursors.indices.min(by: { entry.cursors[$0].lastUse < entry.cursors[$1].lastUse }) {
            replaced = entry.cursors[oldest].id
            entry.cursors[oldest] = fresh
        }
        return (fresh.id, nil, replaced)
    }
}
