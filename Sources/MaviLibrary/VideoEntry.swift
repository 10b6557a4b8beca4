/// The cache's identifier of one cached file (one ``CacheKey``) for the life of the process.
typealias EntryID = Int

/// One block of one cached file.
struct BlockRef: Hashable {
    var entry: EntryID
    var block: Int
}

/// Where a block is in its life. Only `present` blocks are served (and a block being written, up
/// to where its writer has written).
enum BlockPhase: UInt8 {
    case absent
    /// Claimed by one writer (the stream or a ranged fetch), which alone writes its bytes.
    case writing
    /// Complete: its bytes were written before it was marked.
    case present
    /// Chosen for eviction: no longer served; its space is freed once the record that no longer
    /// names it is durable (then it becomes `absent`).
    case evicting
}

struct BlockSlot {
    var phase: BlockPhase = .absent
    /// The producer that claimed it while `writing`.
    var writer: Int = 0
    /// While a ranged fetch writes it: how many of its bytes, from its first, are written. A read
    /// of that prefix is served at once instead of waiting for the whole block (the stream's own
    /// block is tracked by the stream's position instead).
    var filled: Int64 = 0
    /// A ranged fetch may begin inside the block, where the read that waits for it starts, so
    /// that the read does not wait for the bytes before it; a second request of the same fetch
    /// fills those (the `filled` prefix) meanwhile. `leadStart` is where the first began and
    /// `leadEnd` how far it has written, both from the block's first byte; 0 when the fetch
    /// began at the block's start.
    var leadStart: Int64 = 0
    var leadEnd: Int64 = 0
    /// Its length counts in the cache's used bytes (`writing` with space reserved, `present`,
    /// `evicting`).
    var counted = false
    /// Named by the record on disk: its bytes may only be punched out after a record without it
    /// is durable.
    var durable = false
    /// Reads using it right now, which keep it from being evicted.
    var pins: Int = 0
    /// Read at least once since it was written. A stream's blocks that nobody has read yet are
    /// not evicted to make room for the same stream (it would throw away what a reader is about
    /// to want).
    var consumed = true

    /// Whether `part` (offsets from the block's first byte) has been written while the block is
    /// `writing`.
    func holds(_ part: Range<Int64>) -> Bool {
        if filled > 0, part.upperBound <= filled { return true }
        return leadStart > 0 && part.lowerBound >= leadStart && part.upperBound <= leadEnd
    }

    /// Whether every byte of a block of `length` bytes has been written.
    func isFilled(length: Int64) -> Bool {
        filled >= length || (leadStart > 0 && filled >= leadStart && leadEnd >= length)
    }

    /// Forgets what a writer wrote: the block is no longer being written.
    mutating func clearWriter() {
        writer = 0
        filled = 0
        leadStart = 0
        leadEnd = 0
    }
}

/// The video's one download stream, as readers and the stop policy see it.
struct StreamProgress {
    let id: Int
    /// Bytes of the current attempt received so far (the endpoint always starts at byte 0).
    var position: Int64 = 0
    /// The block this pass is writing; its bytes below `position` are valid.
    var writingBlock: Int?
    var attempt = 1
    var attemptStarted: ContinuousClock.Instant
    /// The attempt waits for its turn under the download rate limit (12 a minute); its request
    /// has not been sent.
    var waitingForTurn = true
    /// When bytes last arrived (or the attempt started).
    var lastProgress: ContinuousClock.Instant
    /// Whether any attempt has brought a byte yet. Until then the stream waits for its turn at
    /// the download endpoint (12 a minute) or for its first answer.
    var hasBytes = false
    /// Kept going after every handle closed (see `StreamPolicy`).
    var background = false
    var stopRequested = false

    /// No byte for a second: slow to open (pacing, a slow server) or stalled.
    func isStale(now: ContinuousClock.Instant) -> Bool {
        now - lastProgress > .seconds(1)
    }

    /// Bytes per second in this attempt, once it has run long enough to tell.
    func rate(now: ContinuousClock.Instant) -> Double? {
        let elapsed = (now - attemptStarted).secondsValue
        guard elapsed > 0.2, position > 0 else { return nil }
        return Double(position) / elapsed
    }
}

/// A sequential reader's position and read-ahead, for ranged prefetching. A file keeps a few (a
/// player reads the head, the index at the end and the body, a second reader elsewhere).
struct ReadCursor {
    static let perFile = 4

    /// How far a reader must have gone on from where it started before a read that waits makes
    /// its window grow: random reads that happen to land near each other are not a stream.
    static let provenStream: Int64 = 1 << 20

    let id: Int
    /// Where the reader started.
    var start: Int64 = 0
    var nextOffset: Int64
    /// Read-ahead in blocks; doubles while the reader keeps going, back to 1 after a jump.
    var window: Int
    var lastUse: UInt64

    /// The reader has read on sequentially for a while: a stream, not a random read nearby.
    var isProvenStream: Bool { nextOffset - start >= Self.provenStream }

    /// A read at `offset` goes on from here (within ``CacheState/cursorSlack`` either way).
    func continues(at offset: Int64) -> Bool {
        offset >= nextOffset - CacheState.cursorSlack && offset <= nextOffset + CacheState.cursorSlack
    }
}

/// A ranged request made ahead of a reader, not for a read that waits.
struct Prefetch {
    /// The cursor it was made for.
    let cursor: Int
    let blocks: ClosedRange<Int>
}

/// A read waiting for bytes, with the blocks it keeps pinned while it waits.
struct WaitRegistration {
    let waiter: ReadWaiter
    /// Wake as soon as the stream's position reaches this offset (the read waits on the stream).
    var wakeAtStreamPosition: Int64?
    var pinned: [Int]
    /// Every block the read needs: none of them is evicted while it waits, not even those that
    /// arrive after it started waiting (evicting one would send the read after bytes that are
    /// gone, behind the stream).
    var blocks: ClosedRange<Int>
    /// The bytes the read wants: a fetch that has written its part of a block wakes it.
    var range: Range<Int64>
}

/// Everything the cache knows about one cached file. Lives inside `CacheState` and is only
/// touched under its lock.
final class VideoEntry {
    let id: EntryID
    let key: CacheKey
    let geometry: BlockGeometry
    var slots: [BlockSlot]
    var presentCount = 0
    var evictingCount = 0
    /// Open while the entry is in use; the last holder's release closes the descriptor.
    var file: CacheFile?
    var openHandles = 0
    var activeReads = 0
    var stream: StreamProgress?
    var downloadsStarted = 0
    var lastFailure: (error: VideoReadError, until: ContinuousClock.Instant)?
    var activeFetches = 0
    var rangeFailures = 0
    /// Ranged reads are off for this video (its source ignored Range, failed repeatedly, or
    /// answered for another length).
    var rangeDisabled = false
    var source: RangeSource?
    /// What `source` was resolved from.
    var sourceHint: SourceHint?
    var cursors: [ReadCursor] = []
    /// Prefetches in flight, by fetch id.
    var prefetches: [Int: Prefetch] = [:]
    var waiters: [Int: WaitRegistration] = [:]
    /// The in-memory block states differ from the durable record.
    var recordDirty = false
    /// A record exists on disk (so a flush of an entry with no blocks must still rewrite it).
    var recordOnDisk = false
    let flushLock = AsyncLock()

    init(id: EntryID, key: CacheKey, blockSize: Int) {
        self.id = id
        self.key = key
        geometry = BlockGeometry(fileSize: key.size, blockSize: blockSize)
        slots = Array(repeating: BlockSlot(), count: geometry.blockCount)
    }

    var isComplete: Bool { presentCount == geometry.blockCount }

    /// Nothing uses the entry: its file may be closed, and an empty entry may be dropped.
    var isIdle: Bool {
        openHandles == 0 && activeReads == 0 && stream == nil && activeFetches == 0 && waiters.isEmpty
    }

    /// A read waiting on this video needs `block`.
    func isAwaited(_ block: Int) -> Bool {
        waiters.values.contains { $0.blocks.contains(block) }
    }

    var hasUnsettledBlocks: Bool {
        evictingCount > 0 || slots.contains { $0.phase == .writing }
    }
}

extension Duration {
    var secondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}
