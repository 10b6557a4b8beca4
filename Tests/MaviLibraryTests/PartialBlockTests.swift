import Foundation
@testable import MaviLibrary
import MaviServer
import Testing
import TestSupport

/// A read does not wait for a whole block when the part it asks for has arrived: over a slow link a
/// 4 MiB block takes a while, and a player's first read needs a few kilobytes of it.
@Suite("Reads from blocks still being fetched", .timeLimit(.minutes(5)))
struct PartialBlockTests {
    @Test("a read is served from what a ranged fetch has written, while the rest of its block is still on the way")
    func readsFromAFetchInFlight() async throws {
        try await LibraryFixture.with(size: 6 << 20, rangeRequests: true) { fixture in
            let video = fixture.videos[0]
            // Every ranged reply stops after 1 MiB and holds its connection open: the first block
            // (4 MiB) can never complete while this lasts.
            fixture.server.setFaults(.init(stallAfterBytes: 1 << 20, endpoints: [.file]))
            var configuration = fixture.configuration()
            configuration.blockSize = 4 << 20
            try await withReader(fixture.makeReader(configuration)) { reader in
                let head = try await reader.read(video, offset: 0, size: 4096)
                #expect(head[...] == fixture.source[0..<4096])
                let inside = try await reader.read(video, offset: 900_000, size: 100_000)
                #expect(inside[...] == fixture.source[900_000..<1_000_000])
                // The reads came from the written part: no block is complete.
                #expect(reader.stats().bytesFetchedByRange == 0, "\(reader.stats())")
                let range = try await reader.cachedFileRange(video, offset: 500_000, size: 128 << 10)
                #expect(bytesIn(range)[...] == fixture.source[500_000..<(500_000 + (128 << 10))])
                reader.release(range)
            }
            #expect(fixture.downloads(video) == 0)

            // The written part was never a complete block, so a new reader fetches it again.
            fixture.server.setFaults(.init())
            let requestsBefore = fixture.fileRequests(video)
            try await withReader(fixture.makeReader(configuration)) { reader in
                let head = try await reader.read(video, offset: 0, size: 4096)
                #expect(head[...] == fixture.source[0..<4096])
                #expect(try await readSequentially(reader, video) == fixture.source)
            }
            #expect(fixture.fileRequests(video) > requestsBefore)
        }
    }

    @Test("a read deep inside a block is served by a fetch that starts where the read starts, before the bytes ahead of it in the block")
    func fetchStartsAtTheRead() async throws {
        try await LibraryFixture.with(size: 12 << 20, rangeRequests: true) { fixture in
            let video = fixture.videos[0]
            var configuration = fixture.configuration()
            configuration.blockSize = 4 << 20
            try await withReader(fixture.makeReader(configuration)) { reader in
                // The first read learns that the origin honours Range (its fetch, begun before
                // the stall below, may bring the first two blocks whole).
                let head = try await reader.read(video, offset: 0, size: 4096)
                #expect(head[...] == fixture.source[0..<4096])
                // From now on every ranged reply stops after 1 MiB and holds its connection: a
                // request from the third block's first byte could never bring the bytes 3.5 MiB
                // into it. One that starts at the read brings them at once.
                fixture.server.setFaults(.init(stallAfterBytes: 1 << 20, endpoints: [.file]))
                let offset = (11 << 20) + (1 << 19) + 1000
                let tail = try await reader.read(video, offset: UInt64(offset), size: 64 << 10)
                #expect(tail[...] == fixture.source[offset..<(offset + (64 << 10))])
                // The third block never completed; what was read came from the part written.
                #expect(reader.stats().bytesFetchedByRange <= 8 << 20, "\(reader.stats())")
            }
            #expect(fixture.downloads(video) == 0)
        }
    }

    @Test("a block fetched from inside is served where either request wrote, and complete only when both parts are")
    func blockFilledFromTwoEnds() throws {
        let work = try TemporaryDirectory(prefix: "mavifs-partial")
        defer { work.remove() }
        var state = CacheState(blockSize: 1 << 20, maxBytes: 8 << 20)
        let planned = try PlannedFile(&state, in: work)
        let (entry, file, source, limits) = (planned.entry, planned.file, PlannedFile.source, PlannedFile.limits)
        let readable = { (state: inout CacheState, range: Range<Int64>) -> Bool in
            guard case .ready(_, let id, let blocks) = planned.plan(&state, range) else { return false }
            _ = state.finishRead(
                entry: id, blocks: blocks, range: range, waited: false, served: false, keepPins: false, limits: limits, now: .now,
                rangeSupport: { _ in .honoured })
            return true
        }

        // Too close to the block's start: one request from its first byte.
        let near = state.claimFetches(
            entry, blocks: [0], readAhead: 0, demand: true, source: source, file: file, limits: limits, lead: 100_000)
        #expect(near.first?.lead == nil)
        state.fetchEnded(try #require(near.first), outcome: .abandoned)
        entry.file = file  // an idle entry closes its file; this one is not really on disk

        let tickets = state.claimFetches(
            entry, blocks: [0], readAhead: 0, demand: true, source: source, file: file, limits: limits, lead: 700_000)
        let ticket = try #require(tickets.first)
        let lead = try #require(ticket.lead)
        #expect(lead == 655_360, "aligned down to 64 KiB")
        #expect(state.reserveForFetch(ticket, block: 0) == .reserved)

        state.fetchWrote(ticket, block: 0, part: lead..<800_000)
        #expect(readable(&state, 700_000..<780_000))
        #expect(!readable(&state, 700_000..<900_000), "past what the lead request wrote")
        #expect(!readable(&state, 600_000..<700_000), "before where it began")
        #expect(entry.slots[0].phase == .writing)

        state.fetchWrote(ticket, block: 0, part: lead..<(1 << 20))
        state.fetchWrote(ticket, block: 0, part: 0..<300_000)
        #expect(readable(&state, 0..<300_000))
        #expect(!readable(&state, 0..<400_000))
        #expect(entry.slots[0].phase == .writing, "a hole is left between the two parts")
        state.fetchWrote(ticket, block: 0, part: 0..<lead)
        #expect(entry.slots[0].phase == .present)
        #expect(state.counters.bytesFetchedByRange == 1 << 20)
        #expect(readable(&state, 0..<(1 << 20)))
    }

    @Test("a block whose fetch gave up keeps its bytes while a read served from its written part still uses them")
    func pinnedPrefixOutlivesItsFetch() throws {
        let work = try TemporaryDirectory(prefix: "mavifs-partial")
        defer { work.remove() }
        let layout = CacheLayout(directory: work.path)
        var state = CacheState(blockSize: 64 << 10, maxBytes: 8 << 20)
        let planned = try PlannedFile(&state, in: work)
        let (entry, file, source, limits) = (planned.entry, planned.file, PlannedFile.source, PlannedFile.limits)
        let plan = { (state: inout CacheState, range: Range<Int64>) in planned.plan(&state, range) }

        let tickets = state.claimFetches(entry, blocks: [0], readAhead: 0, demand: true, source: source, file: file, limits: limits)
        let ticket = try #require(tickets.first)
        #expect(state.reserveForFetch(ticket, block: 0) == .reserved)
        state.fetchWrote(ticket, block: 0, part: 0..<(16 << 10))
        guard case .ready(_, let id, let blocks) = plan(&state, 0..<4096) else {
            Issue.record("the written part of the block is readable")
            return
        }
        guard case .notReady = plan(&state, 20_000..<30_000) else {
            Issue.record("bytes past the written part are not")
            return
        }

        // The fetch fails while the read still copies: the block's bytes must stay.
        state.fetchEnded(ticket, outcome: .failed)
        #expect(entry.slots[0].phase == .evicting)
        #expect(state.beginFlush(id, scope: .evictions, layout: layout) == nil, "nothing may be punched under a read")
        #expect(state.beginFlush(id, scope: .full, layout: layout)?.punches.isEmpty ?? true)

        _ = state.finishRead(
            entry: id, blocks: blocks, range: 0..<4096, waited: false, served: true, keepPins: false, limits: limits, now: .now,
            rangeSupport: { _ in .honoured })
        let flush = state.beginFlush(id, scope: .evictions, layout: layout)
        let job = try #require(flush)
        #expect(job.punches.map(\.block) == [0], "once the read is done, the block goes")
        state.endFlush(id, job: job, recordWritten: false)
        #expect(entry.slots[0].phase == .absent)
        #expect(state.usedBytes == 0)
    }
}

/// One file of 1 MiB on the planner's state alone: its entry, a data file, and a source that
/// honours Range.
struct PlannedFile {
    static let hint = SourceHint(videoURL: "http://127.0.0.1:9/v.mp4")
    static let source = RangeSource(url: URL(string: "http://127.0.0.1:9/v.mp4")!, origin: "http://127.0.0.1:9")
    static let limits = PlanningLimits(useRanges: true, maxFetchBlocks: 4, maxRequestBlocks: 2)

    let key = CacheKey(namespace: "ns", videoNo: "VI1", size: 1 << 20)
    let entry: VideoEntry
    let file: CacheFile

    init(_ state: inout CacheState, in work: TemporaryDirectory) throws {
        entry = state.entry(for: key)
        file = try CacheFile.open(path: work.appending("data"), size: key.size, create: true)
        entry.file = file
        entry.source = Self.source
        entry.sourceHint = Self.hint
    }

    /// How a read of `range` would go now, registering nothing.
    func plan(_ state: inout CacheState, _ range: Range<Int64>) -> ReadStep {
        state.planRead(
            ReadRequest(key: key, range: range, hint: Self.hint), waiter: nil, limits: Self.limits, now: .now,
            rangeSupport: { _ in .honoured }, resolveSource: { _ in Self.source })
    }
}
