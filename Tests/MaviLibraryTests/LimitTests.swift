import Foundation
import MaviAPI
@testable import MaviLibrary
import Synchronization
import TestSupport
import Testing

/// The cap on cached bytes is hard, and reading more than it still gives the right bytes.
@Suite("Limits", .timeLimit(.minutes(5)))
struct LimitTests {
    @Test("the cap holds while reading more than it", arguments: [true, false])
    func capHolds(rangeRequests: Bool) async throws {
        try await LibraryFixture.with(videos: 4, size: 700_000, rangeRequests: rangeRequests) { fixture in
            let cap: Int64 = 16 * Int64(testBlockSize)  // 1 MiB, less than two videos
            let reader = try fixture.makeReader(fixture.configuration(maxBytes: cap))
            let peak = Mutex<Int64>(0)
            let sampling = Task {
                while !Task.isCancelled {
                    let used = reader.stats().bytesUsed
                    peak.withLock { $0 = max($0, used) }
                    try? await Task.sleep(for: .milliseconds(2))
                }
            }
            try await withReader(reader) { reader in
                for round in 0..<2 {
                    for video in fixture.videos {
                        reader.opened(video)
                        defer { reader.closed(video) }
                        let bytes = try await readSequentially(reader, video, chunk: 50_000 + round * 10_000)
                        #expect(bytes == fixture.source)
                        let onDisk = cacheDataFiles(fixture.cacheDirectory).reduce(Int64(0)) { $0 + $1.allocated }
                        // A file's last block is rounded up to the file system's 4 KiB pages.
                        #expect(onDisk <= cap + 4096 * 4, "disk use \(onDisk) over the cap \(cap)")
                    }
                }
                #expect(reader.stats().bytesEvicted > 0)
            }
            sampling.cancel()
            #expect(peak.withLock { $0 } <= cap)
        }
    }

    @Test("one video larger than the cap reads correctly, sequentially and from the end")
    func videoLargerThanCap() async throws {
        try await LibraryFixture.with(size: 2_000_000, rangeRequests: true) { fixture in
            let video = fixture.videos[0]
            let cap: Int64 = 8 * Int64(testBlockSize)
            try await withReader(fixture.makeReader(fixture.configuration(maxBytes: cap))) { reader in
                reader.opened(video)
                defer { reader.closed(video) }
                let tail = try await reader.read(video, offset: 1_990_000, size: 10_000)
                #expect(tail[...] == fixture.source[1_990_000...])
                let readBack = try await readSequentially(reader, video, chunk: 40_000)
                #expect(readBack == fixture.source)
                #expect(reader.stats().bytesUsed <= cap)
            }
        }
    }

    @Test("a cap lowered between runs is enforced when the cache opens")
    func capLoweredAtOpen() async throws {
        try await LibraryFixture.with(videos: 3, size: 500_000) { fixture in
            try await withReader(fixture.makeReader()) { reader in
                for video in fixture.videos { _ = try await readSequentially(reader, video) }
                #expect(reader.stats().bytesCached == 1_500_000)
            }
            let cap: Int64 = 10 * Int64(testBlockSize)
            try await withReader(fixture.makeReader(fixture.configuration(maxBytes: cap))) { reader in
                #expect(reader.stats().bytesUsed <= cap)
                let onDisk = cacheDataFiles(fixture.cacheDirectory).reduce(Int64(0)) { $0 + $1.allocated }
                #expect(onDisk <= cap + 3 * 4096)
                // The most recently read video is the one kept.
                fixture.server.resetStats()
                let readBack = try await readSequentially(reader, fixture.videos[2])
                #expect(readBack == fixture.source)
                #expect(fixture.downloads(fixture.videos[2]) == 0)
            }
        }
    }

    @Test("in-flight read buffers and fetch slots are bounded: takers beyond the budget wait their turn, urgent ones first")
    func budgetTurns() async throws {
        let budget = ByteBudget(capacity: 1000)
        let first = try await budget.acquire(1000)
        let plain = Task { try await budget.acquire(400) }
        try await waitUntil("the plain taker to queue") { budget.waiting == 1 }
        let urgent = Task { try await budget.acquire(400, urgent: true) }
        try await waitUntil("the urgent taker to queue") { budget.waiting == 2 }
        // Room for one: the urgent taker, though it came second.
        budget.release(400)
        #expect(try await urgent.value == 400)
        #expect(budget.waiting == 1, "the plain taker still waits")
        budget.release(first - 400)
        #expect(try await plain.value == 400)
        // A request above the capacity is clamped rather than waiting forever.
        budget.release(800)
        #expect(try await budget.acquire(5000) == 1000)
    }
}
