/// Counters behind ``CacheStats``.
struct CacheCounters {
    var bytesFromCache: Int64 = 0
    var bytesAfterWaiting: Int64 = 0
    var bytesStreamed: Int64 = 0
    var bytesFetchedByRange: Int64 = 0
    var downloadsStarted = 0
    var rangeRequests = 0
    var bytesEvicted: Int64 = 0
}

/// The files of a removed entry, and the lock its flushes hold (a flush in flight could write
/// the record again after an early delete).
struct DiscardedFile: Sendable {
    let key: CacheKey
    let flushLock: AsyncLock
}

/// Blocks kept pinned, with their file open, after a read returned where they are: until the
/// reply that hands them to the kernel is sent, or for a while at most.
struct Lease {
    let until: ContinuousClock.Instant
    let entry: EntryID
    let blocks: ClosedRange<Int>
    let file: CacheFile
}

/// What a writer learned when it asked for room for a block.
enum Reservation: Equatable {
    case reserved
    /// Blocks of these entries were chosen for eviction: make their records durable (which frees
    /// the space), then ask again.
    case evicting(Set<EntryID>)
    /// Other evictions are settling: ask again shortly.
    case busy
    /// Nothing can be evicted now (every block is in use).
    case full
    /// The entry is gone (forgotten or shut down).
    case gone
}

/// The whole cache's state: every cached file's blocks, the LRU order, and the byte accounting.
/// Pure bookkeeping, no I/O; `VideoReader` holds it under one lock.
///
/// Invariant: `usedBytes` is the sum of the lengths of `counted` blocks (present, evicting, and
/// writing with space reserved), and never exceeds `maxBytes`: room is reserved before any byte
/// of a block is written.
struct CacheState {
    let blockSize: Int
    let maxBytes: Int64
    var entries: [EntryID: VideoEntry] = [:]
    var byKey: [CacheKey: EntryID] = [:]
    var lru = LRUList<BlockRef>()
    var usedBytes: Int64 = 0
    /// Bytes of evicting blocks: counted in `usedBytes` until their eviction settles.
    var settlingBytes: Int64 = 0
    var nextID = 1
    var tick: UInt64 = 0
    var counters = CacheCounters()
    var shuttingDown = false
    /// Videos deleted while this process runs: reads of them fail instead of fetching them again.
    var forgotten = Set<String>()
    /// Removed entries whose files are still to be deleted.
    var discarded: [DiscardedFile] = []
    /// Pins held for replies that read straight from the cache file, by id.
    var leases: [Int: Lease] = [:]
    /// When each lease expires at the latest, in that order (from `leaseHead` on).
    var leaseExpiries: [(until: ContinuousClock.Instant, id: Int)] = []
    var leaseHead = 0

    init(blockSize: Int, maxBytes: Int64) {
        self.blockSize = blockSize
        self.maxBytes = maxBytes
    }

    mutating func makeID() -> Int {
        nextID += 1
        return nextID
    }

    /// The entry for `key`, created if needed. Entries of the same video under another size are
    /// stale (the video changed) and are dropped.
    mutating func entry(for key: CacheKey) -> VideoEntry {
        if let id = byKey[key], let entry = entries[id] { return entry }
        let stale = byKey.keys.filter { $0.namespace == key.namespace && $0.videoNo == key.videoNo && $0.size != key.size }
        for old in stale { _ = removeEntry(byKey[old]!) }
        let entry = VideoEntry(id: makeID(), key: key, blockSize: blockSize)
        entries[entry.id] = entry
        byKey[key] = entry.id
        return entry
    }

    /// Files of removed entries, to delete once any flush of theirs in flight has finished.
    mutating func takeDiscarded() -> [DiscardedFile] {
        guard !discarded.isEmpty else { return [] }
        defer { discarded = [] }
        return discarded
    }

    /// Adds an entry loaded from disk with its complete blocks, as the least recently used so far.
    mutating func adopt(key: CacheKey, present: BlockBitmap) {
        let entry = VideoEntry(id: makeID(), key: key, blockSize: blockSize)
        entry.recordOnDisk = true
        for block in 0..<entry.geometry.blockCount where present[block] {
            entry.slots[block] = BlockSlot(phase: .present, counted: true, durable: true, consumed: true)
            entry.presentCount += 1
            usedBytes += entry.geometry.length(of: block)
            lru.touch(BlockRef(entry: entry.id, block: block))
        }
        entries[entry.id] = entry
        byKey[key] = entry.id
    }

    /// Drops an entry from the cache's books (its producers find it gone and stop; its waiters
    /// are woken and find it gone).
    mutating func removeEntry(_ id: EntryID) -> VideoEntry? {
        guard let entry = entries.removeValue(forKey: id) else { return nil }
        byKey.removeValue(forKey: entry.key)
        for block in entry.slots.indices {
            if entry.slots[block].counted { usedBytes -= entry.geometry.length(of: block) }
            if entry.slots[block].phase == .evicting { settlingBytes -= entry.geometry.length(of: block) }
            lru.remove(BlockRef(entry: id, block: block))
        }
        entry.stream?.stopRequested = true
        wakeAll(entry)
        discarded.append(DiscardedFile(key: entry.key, flushLock: entry.flushLock))
        return entry
    }

    // MARK: - Block transitions

    mutating func markPresent(_ entry: VideoEntry, _ block: Int) {
        entry.slots[block].phase = .present
        entry.slots[block].clearWriter()
        entry.slots[block].consumed = false
        entry.presentCount += 1
        entry.recordDirty = true
        lru.touch(BlockRef(entry: entry.id, block: block))
    }

    /// Gives up a writer's claim on a block that will not be completed. Space already reserved
    /// may hold written bytes, so the block goes through eviction, which punches them out — once
    /// no read that was served its written prefix still copies from it (see `beginFlush`).
    mutating func releaseClaim(_ entry: VideoEntry, _ block: Int) {
        guard entry.slots[block].phase == .writing else { return }
        entry.slots[block].clearWriter()
        if entry.slots[block].counted {
            entry.slots[block].phase = .evicting
            entry.evictingCount += 1
            settlingBytes += entry.geometry.length(of: block)
        } else {
            entry.slots[block].phase = .absent
        }
    }

    /// The record no longer names these evicting blocks and their bytes are punched out: they
    /// are absent, and their space is free.
    mutating func finishEviction(_ entry: VideoEntry, blocks: [Int]) {
        for block in blocks where entry.slots[block].phase == .evicting {
            entry.slots[block].phase = .absent
            if entry.slots[block].counted {
                entry.slots[block].counted = false
                usedBytes -= entry.geometry.length(of: block)
                settlingBytes -= entry.geometry.length(of: block)
                counters.bytesEvicted += entry.geometry.length(of: block)
            }
            entry.evictingCount -= 1
        }
        wakeAll(entry)
    }

    // MARK: - Room for a block

    /// Reserves room for `block` of `entryID`, which its writer has claimed. When the cache is
    /// full, the least recently used blocks that nobody is reading are chosen for eviction;
    /// blocks a stream wrote that nobody has read yet are spared unless `demand` (a reader is
    /// waiting for this writer).
    mutating func reserve(_ entryID: EntryID, block: Int, demand: Bool) -> Reservation {
        guard !shuttingDown, let entry = entries[entryID], entry.slots[block].phase == .writing else { return .gone }
        if entry.slots[block].counted { return .reserved }
        let length = entry.geometry.length(of: block)
        if usedBytes + length <= maxBytes {
            usedBytes += length
            entry.slots[block].counted = true
            return .reserved
        }
        // Space already on its way out counts, so concurrent writers do not all evict for the
        // same shortfall.
        let needed = usedBytes + length - maxBytes - settlingBytes
        guard needed > 0 else { return .busy }
        // Evict in batches (a thirty-second of the cache, at most 16 blocks): each eviction costs
        // a durable record write, too dear to pay block by block.
        let batch = min(maxBytes / 32, 16 * Int64(blockSize))
        let touched = chooseVictims(toFree: max(needed, batch), demand: demand)
        guard !touched.isEmpty else { return settlingBytes > 0 ? .busy : .full }
        return .evicting(touched)
    }

    /// Marks least recently used blocks that nobody is reading as evicting until they add up to
    /// `needed` bytes (or nothing more can go). Returns the entries whose records must be flushed.
    ///
    /// Blocks a waiting read needs never go. Blocks already read (or of videos nobody uses) go
    /// first. Only with `demand`, and only when those are not enough, do blocks a stream wrote
    /// that nobody has read yet go too: evicting one means fetching it again if a reader gets there.
    mutating func chooseVictims(toFree needed: Int64, demand: Bool) -> Set<EntryID> {
        var freed: Int64 = 0
        var chosen: [BlockRef] = []
        var awaited: [BlockRef] = []
        lru.forEachFromOldest { ref in
            guard let victim = entries[ref.entry] else { return true }
            let slot = victim.slots[ref.block]
            guard slot.phase == .present, slot.pins == 0, !victim.isAwaited(ref.block) else { return true }
            if !slot.consumed, victim.openHandles > 0 || !victim.waiters.isEmpty || victim.stream != nil {
                if demand { awaited.append(ref) }
                return true
            }
            chosen.append(ref)
            freed += victim.geometry.length(of: ref.block)
            return freed < needed
        }
        for ref in awaited where freed < needed {
            chosen.append(ref)
            freed += entries[ref.entry]!.geometry.length(of: ref.block)
        }
        var touched = Set<EntryID>()
        for ref in chosen {
            let victim = entries[ref.entry]!
            victim.slots[ref.block].phase = .evicting
            victim.presentCount -= 1
            victim.evictingCount += 1
            victim.recordDirty = true
            settlingBytes += victim.geometry.length(of: ref.block)
            lru.remove(ref)
            touched.insert(ref.entry)
        }
        return touched
    }

    // MARK: - Waking readers

    func wakeAll(_ entry: VideoEntry) {
        for registration in entry.waiters.values { registration.waiter.wake() }
    }

    func wakeStreamWaiters(_ entry: VideoEntry, position: Int64) {
        for registration in entry.waiters.values {
            if let wakeAt = registration.wakeAtStreamPosition, wakeAt <= position { registration.waiter.wake() }
        }
    }

    // MARK: - Files

    /// Drops the entry's reference to its data file when nothing uses it; the descriptor closes
    /// when the last task holding it lets go.
    func releaseFileIfIdle(_ entry: VideoEntry) {
        if entry.isIdle { entry.file = nil }
    }

    /// The data file vanished (or was replaced), and its record was deleted: no block of the
    /// entry can be trusted any more.
    mutating func forgetRecord(_ entry: VideoEntry) {
        for block in entry.slots.indices {
            entry.slots[block].durable = false
            guard entry.slots[block].phase == .present else { continue }
            entry.slots[block].phase = .absent
            entry.slots[block].counted = false
            usedBytes -= entry.geometry.length(of: block)
            lru.remove(BlockRef(entry: entry.id, block: block))
        }
        entry.presentCount = 0
        entry.recordOnDisk = false
        entry.recordDirty = false
    }

    var totalPresentBytes: Int64 {
        entries.values.reduce(0) { total, entry in
            total + entry.slots.indices.reduce(Int64(0)) { $0 + (entry.slots[$1].phase == .present ? entry.geometry.length(of: $1) : 0) }
        }
    }
}

extension CacheState {
    /// What a read that timed out was up against, for the log: the video's blocks by phase, the
    /// pins on them, its stream, and how full the cache is.
    func diagnosis(of key: CacheKey) -> String {
        guard let id = byKey[key], let entry = entries[id] else { return "no entry" }
        var phases: [BlockPhase: Int] = [:]
        var pinned = 0
        for slot in entry.slots {
            phases[slot.phase, default: 0] += 1
            if slot.pins > 0 { pinned += 1 }
        }
        let stream = entry.stream.map { "at \($0.position), writing \($0.writingBlock.map(String.init) ?? "-")\($0.stopRequested ? ", stopping" : "")" } ?? "none"
        return "blocks present \(phases[.present] ?? 0), writing \(phases[.writing] ?? 0), evicting \(phases[.evicting] ?? 0), "
            + "absent \(phases[.absent] ?? 0), pinned \(pinned); stream \(stream); fetches \(entry.activeFetches); "
            + "cache \(usedBytes) of \(maxBytes) bytes used, \(settlingBytes) settling, \(leases.count) leases"
    }
}
