/// How a ranged fetch ended, for the entry's bookkeeping.
enum FetchOutcome {
    case completed
    /// The source answered 200 (Range ignored), a mismatched range, or another length.
    case rangeless
    case failed
    /// Stopped because its entry is gone or the reader is shutting down.
    case abandoned

    /// The outcome of a fetch made of two requests: what the source did wrong counts first
    /// (ignoring Range, then failing), then being stopped.
    static func combined(_ a: FetchOutcome, _ b: FetchOutcome) -> FetchOutcome {
        for outcome in [FetchOutcome.rangeless, .failed, .abandoned] where a == outcome || b == outcome { return outcome }
        return .completed
    }
}

enum StreamOutcome {
    case finished
    case stopped
    case failed(VideoReadError)
}

/// Whether the stream goes on after some bytes.
enum StreamNext {
    case goOn
    /// Every block is cached: the rest of this pass would bring nothing new.
    case complete
    case stop
}

/// What the stream does with the bytes of one block it has reached.
enum StreamAction {
    /// Write them (the stream owns the block).
    case write
    /// The block is cached: skip its bytes.
    case skip
    /// The block is being evicted (or a failed writer's bytes are being punched out): wait for
    /// that to settle, then ask again — skipping it would leave a hole behind the stream.
    case settle
    case stop
}

extension CacheState {
    // MARK: - The download stream

    /// Starts attempt `attempt`; the endpoint sends the file from byte 0 again.
    mutating func streamAttemptStarting(_ entryID: EntryID, stream streamID: Int, attempt: Int, now: ContinuousClock.Instant) -> Bool {
        guard !shuttingDown, let entry = entries[entryID], var stream = entry.stream, stream.id == streamID, !stream.stopRequested else {
            return false
        }
        stream.attempt = attempt
        stream.position = 0
        stream.attemptStarted = now
        stream.lastProgress = now
        // A block left half-written by the previous attempt stays claimed by this stream; the new
        // pass takes it up again when it reaches its start.
        stream.writingBlock = nil
        stream.waitingForTurn = true
        entry.stream = stream
        return true
    }

    /// The stream's request went out: its turn under the download rate limit came.
    mutating func streamSent(_ entryID: EntryID, stream streamID: Int) {
        guard let entry = entries[entryID], entry.stream?.id == streamID else { return }
        entry.stream?.waitingForTurn = false
        entry.stream?.attemptStarted = .now
    }

    /// Whether reads of `key` wait for a download whose turn under the rate limit has not come:
    /// such a read is in a queue that moves (one download every few seconds), not stalled, and
    /// its deadline counts from when the turn comes.
    func waitsForDownloadTurn(_ key: CacheKey) -> Bool {
        guard let id = byKey[key], let entry = entries[id], let stream = entry.stream else { return false }
        return stream.waitingForTurn && !stream.stopRequested && !entry.waiters.isEmpty
    }

    /// The stream is about to deliver bytes of `block` starting at `offset`.
    mutating func streamWillWrite(_ entryID: EntryID, stream streamID: Int, block: Int, offset: Int64) -> StreamAction {
        guard !shuttingDown, let entry = entries[entryID], var stream = entry.stream, stream.id == streamID, !stream.stopRequested else {
            return .stop
        }
        if stream.writingBlock == block { return .write }
        // A block is only ever written from its first byte in one pass, so "written up to the
        // stream's position" is exact. The stream takes over a block a ranged fetch is still
        // writing: the fetch notices and stops (both write the same bytes meanwhile), so a fetch
        // that fails later cannot leave a hole behind the stream.
        let phase = entry.slots[block].phase
        guard offset == entry.geometry.start(of: block) else { return .skip }
        if phase == .evicting { return .settle }
        guard phase == .absent || phase == .writing else { return .skip }
        entry.slots[block].phase = .writing
        entry.slots[block].clearWriter()
        entry.slots[block].writer = streamID
        stream.writingBlock = block
        entry.stream = stream
        return .write
    }

    /// The stream's position is now `position`. Completes its block when it reached the end.
    mutating func streamAdvanced(
        _ entryID: EntryID, stream streamID: Int, to position: Int64, wrote: Int64, now: ContinuousClock.Instant
    ) -> StreamNext {
        guard let entry = entries[entryID], var stream = entry.stream, stream.id == streamID else { return .stop }
        counters.bytesStreamed += wrote
        stream.position = position
        stream.hasBytes = true
        stream.lastProgress = now
        if let block = stream.writingBlock, position >= entry.geometry.end(of: block) {
            stream.writingBlock = nil
            entry.stream = stream
            markPresent(entry, block)
            wakeAll(entry)
        } else {
            entry.stream = stream
            wakeStreamWaiters(entry, position: position)
        }
        if stream.stopRequested || shuttingDown { return .stop }
        return entry.isComplete ? .complete : .goOn
    }

    func streamStopRequested(_ entryID: EntryID, stream streamID: Int) -> Bool {
        guard !shuttingDown, let stream = entries[entryID]?.stream, stream.id == streamID else { return true }
        return stream.stopRequested
    }

    mutating func streamEnded(_ entryID: EntryID, stream streamID: Int, outcome: StreamOutcome, now: ContinuousClock.Instant, cooldown: Duration) {
        guard let entry = entries[entryID], let stream = entry.stream, stream.id == streamID else { return }
        for block in entry.slots.indices where entry.slots[block].phase == .writing && entry.slots[block].writer == streamID {
            releaseClaim(entry, block)
        }
        entry.stream = nil
        if case .failed(let error) = outcome {
            entry.lastFailure = (error, now + cooldown)
        }
        wakeAll(entry)
        releaseFileIfIdle(entry)
    }

    /// Room for the stream's block; it may evict blocks nobody has read yet only when a read of
    /// the video waits: on the stream's progress, or on its end (for a block it passed that is
    /// gone), which a stream held up by a full cache would never reach.
    mutating func reserveForStream(_ entryID: EntryID, stream streamID: Int, block: Int) -> Reservation {
        guard !streamStopRequested(entryID, stream: streamID), let entry = entries[entryID] else { return .gone }
        return reserve(entryID, block: block, demand: !entry.waiters.isEmpty)
    }

    // MARK: - Ranged fetches

    func fetchOwns(_ entryID: EntryID, fetch fetchID: Int, block: Int) -> Bool {
        guard !shuttingDown, let entry = entries[entryID] else { return false }
        return entry.slots[block].phase == .writing && entry.slots[block].writer == fetchID
    }

    mutating func reserveForFetch(_ ticket: FetchTicket, block: Int) -> Reservation {
        guard fetchOwns(ticket.entry, fetch: ticket.fetchID, block: block), let entry = entries[ticket.entry] else { return .gone }
        return reserve(ticket.entry, block: block, demand: ticket.demand || !entry.waiters.isEmpty)
    }

    /// The fetch has written `part` of `block` (from the block's first byte, or from where the
    /// fetch began inside it): reads of what is written may go on, and the block is complete
    /// once every byte is. Wakes the waiters whose part of the block is now there (each once).
    mutating func fetchWrote(_ ticket: FetchTicket, block: Int, part: Range<Int64>) {
        guard fetchOwns(ticket.entry, fetch: ticket.fetchID, block: block), let entry = entries[ticket.entry] else { return }
        let blockStart = entry.geometry.start(of: block)
        let blockEnd = entry.geometry.end(of: block)
        let before = entry.slots[block]
        if part.lowerBound == blockStart {
            entry.slots[block].filled = part.upperBound - blockStart
        } else {
            entry.slots[block].leadEnd = part.upperBound - blockStart
        }
        if entry.slots[block].isFilled(length: blockEnd - blockStart) {
            counters.bytesFetchedByRange += blockEnd - blockStart
            markPresent(entry, block)
            wakeAll(entry)
            return
        }
        let after = entry.slots[block]
        for registration in entry.waiters.values where registration.blocks.contains(block) {
            let wanted = registration.range.clamped(to: blockStart..<blockEnd)
            let relative = (wanted.lowerBound - blockStart)..<(wanted.upperBound - blockStart)
            if !before.holds(relative), after.holds(relative) { registration.waiter.wake() }
        }
    }

    mutating func fetchEnded(_ ticket: FetchTicket, outcome: FetchOutcome) {
        guard let entry = entries[ticket.entry] else { return }
        for block in ticket.blocks where entry.slots[block].phase == .writing && entry.slots[block].writer == ticket.fetchID {
            releaseClaim(entry, block)
        }
        entry.activeFetches -= 1
        entry.prefetches.removeValue(forKey: ticket.fetchID)
        switch outcome {
        case .completed: entry.rangeFailures = 0
        case .rangeless: entry.rangeDisabled = true
        case .failed:
            entry.rangeFailures += 1
            // Repeated failures: fall back to the stream rather than failing reads one by one.
            if entry.rangeFailures >= 3 { entry.rangeDisabled = true }
        case .abandoned: break
        }
        wakeAll(entry)
        releaseFileIfIdle(entry)
    }

    // MARK: - Handles and the stop policy

    mutating func handleOpened(_ key: CacheKey) {
        let entry = entry(for: key)
        entry.openHandles += 1
        entry.stream?.background = false
    }

    /// A handle closed. When it was the last and nobody waits, the stream either carries on in
    /// the background or stops (see `StreamPolicy`), and prefetches stop: nobody is left to read
    /// ahead for. Returns the entry to flush, the stream to cancel if it must stop, and the
    /// prefetches to cancel.
    mutating func handleClosed(_ key: CacheKey, maxBackground: Int) -> (flush: EntryID?, stopStream: Int?, prefetches: [Int]) {
        guard let id = byKey[key], let entry = entries[id] else { return (nil, nil, []) }
        entry.openHandles = max(0, entry.openHandles - 1)
        guard entry.openHandles == 0 else { return (nil, nil, []) }
        let prefetches = uselessPrefetches(of: entry, cursor: nil)
        var stop: Int?
        if var stream = entry.stream, !stream.stopRequested, entry.waiters.isEmpty {
            let background = entries.values.filter { $0.stream.map { $0.background && !$0.stopRequested } ?? false }.count
            if StreamPolicy.keepInBackground(
                size: key.size, maxBytes: maxBytes, started: stream.hasBytes, backgroundStreams: background, maxBackground: maxBackground) {
                stream.background = true
            } else {
                stream.stopRequested = true
                stop = stream.id
            }
            entry.stream = stream
        }
        releaseFileIfIdle(entry)
        return (id, stop, prefetches)
    }
}

/// What happens to a download nobody waits on any more.
///
/// Every handle on the video closed and no read waits, but the stream has not finished. Starting
/// it again later costs a whole new download from byte 0, and the service allows only 12
/// downloads a minute, so it is kept going to the end — in the background, at most
/// `maxBackgroundDownloads` at a time, and only for a video that fits comfortably in the cache
/// (at most half of it; a larger one would evict its own first blocks before anyone reads them).
/// Otherwise it stops at once; the blocks it wrote stay cached. A stream that has not brought a
/// byte yet (it waits for its turn at the download endpoint) always stops: leaving the queue
/// spends no download, and the next video a person opens gets the turn instead.
enum StreamPolicy {
    static func keepInBackground(size: Int64, maxBytes: Int64, started: Bool, backgroundStreams: Int, maxBackground: Int) -> Bool {
        started && backgroundStreams < maxBackground && size <= maxBytes / 2
    }
}
