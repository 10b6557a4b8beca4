@testable import MaviLibrary
import Testing

/// How the planner follows a file's readers for read-ahead, on the state alone.
@Suite("Read positions and their read-ahead")
struct ReadCursorTests {
    static let blockSize = 64 << 10
    static let limits = PlanningLimits(useRanges: true, maxFetchBlocks: 64, maxRequestBlocks: 8)

    func entry(_ state: inout CacheState) -> VideoEntry {
        state.entry(for: CacheKey(namespace: "ns", videoNo: "VI1", size: 64 << 20))
    }

    @Test("reads that arrive out of order, as the kernel's parallel read-ahead sends them, continue one position whose window grows")
    func outOfOrderReadsContinue() {
        var state = CacheState(blockSize: Self.blockSize, maxBytes: 1 << 30)
        let entry = entry(&state)
        let piece: Int64 = 32 << 10
        let first = state.advanceCursor(of: entry, read: 0..<piece, limits: Self.limits)
        #expect(first.window == nil, "a new position has no read-ahead yet")
        // 64 K..96 K comes before 32 K..64 K, then the reader goes on.
        var windows: [Int?] = []
        for start in [2, 1, 3, 4, 5, 6, 7, 8, 9].map({ Int64($0) * piece }) {
            let step = state.advanceCursor(of: entry, read: start..<(start + piece), limits: Self.limits)
            #expect(step.cursor == first.cursor && step.replaced == nil)
            windows.append(step.window)
        }
        #expect(entry.cursors.count == 1)
        #expect(entry.cursors[0].nextOffset == 10 * piece)
        // The window doubles each time the position enters another block (at 64 K, 128 K, …);
        // the late read behind the position moves nothing.
        #expect(windows == [2, 2, 4, 4, 8, 8, 16, 16, 32])
    }

    @Test("once a reader has proven a stream, the window doubles at each read that had to wait, not only at each new block")
    func waitingReadsGrowTheWindow() {
        var state = CacheState(blockSize: 4 << 20, maxBytes: 1 << 30)
        let entry = entry(&state)
        let piece: Int64 = 128 << 10
        // The first megabyte: waiting reads are not enough yet (random reads land near each other too).
        for index in 0..<8 {
            let start = Int64(index) * piece
            _ = state.advanceCursor(of: entry, read: start..<(start + piece), waited: true, limits: Self.limits)
        }
        #expect(entry.cursors[0].window == 1)
        var windows: [Int?] = []
        // Then the first four waited, and the read-ahead is ahead.
        for (index, waited) in [true, true, true, true, false, false].enumerated() {
            let start = Int64(index + 8) * piece
            windows.append(state.advanceCursor(of: entry, read: start..<(start + piece), waited: waited, limits: Self.limits).window)
        }
        #expect(windows == [2, 4, 8, 16, 16, 16])
        // Reads that do not wait leave it, until the reader enters the next block.
        var window: Int?
        for index in 14..<32 {
            let start = Int64(index) * piece
            window = state.advanceCursor(of: entry, read: start..<(start + piece), limits: Self.limits).window
            if index < 31 { #expect(window == 16) }
        }
        #expect(window == 32)
        for index in 33..<45 {
            let start = Int64(index) * piece
            _ = state.advanceCursor(of: entry, read: start..<(start + piece), waited: true, limits: Self.limits)
        }
        #expect(entry.cursors[0].window == Self.limits.maxFetchBlocks)
    }

    @Test("a jump beyond the slack starts another position; a fifth replaces the least recently used and names it")
    func positions() {
        var state = CacheState(blockSize: Self.blockSize, maxBytes: 1 << 30)
        let entry = entry(&state)
        let mib: Int64 = 1 << 20
        var ids: [Int] = []
        for start in [0, 8, 16, 24].map({ $0 * mib }) {
            let step = state.advanceCursor(of: entry, read: start..<(start + 4096), limits: Self.limits)
            #expect(step.replaced == nil && step.window == nil)
            ids.append(step.cursor)
        }
        #expect(Set(ids).count == 4)
        // The head is read again: it is no longer the least recently used.
        _ = state.advanceCursor(of: entry, read: 4096..<8192, limits: Self.limits)
        let fifth = state.advanceCursor(of: entry, read: (40 * mib)..<(40 * mib + 4096), limits: Self.limits)
        #expect(fifth.replaced == ids[1], "the position at 8 MiB was used longest ago")
        #expect(entry.cursors.count == ReadCursor.perFile)
    }
}
