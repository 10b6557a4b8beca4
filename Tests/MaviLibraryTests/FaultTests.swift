import Foundation
import Glibc
import MaviAPI
import MaviClient
@testable import MaviLibrary
import MaviServer
import TestSupport
import Testing

/// Cut and stalled streams: retried within bounds, then errors — never wrong bytes.
@Suite("Faults", .timeLimit(.minutes(5)))
struct FaultTests {
    @Test("cut downloads are retried from byte 0 and give the right bytes")
    func cutDownloadsAreRetried() async throws {
        // Without client retries, every request the server counts is one attempt of the stream.
        try await LibraryFixture.with(size: 1_500_000, rangeRequests: false, clientRetry: .never) { fixture in
            let video = fixture.videos[0]
            fixture.server.setFaults(.init(cutAfterBytes: 500_000, cutCount: 2, endpoints: [.download]))
            try await withReader(fixture.makeReader()) { reader in
                let bytes = try await readSequentially(reader, video)
                #expect(bytes == fixture.source)
            }
            #expect(fixture.downloads(video) == 3)
        }
    }

    @Test("a download cut every time fails reads with EIO after bounded attempts")
    func downloadAlwaysCut() async throws {
        try await LibraryFixture.with(size: 1_000_000, rangeRequests: false, clientRetry: .never) { fixture in
            let video = fixture.videos[0]
            fixture.server.setFaults(.init(cutAfterBytes: 300_000, endpoints: [.download]))
            try await withReader(fixture.makeReader(fixture.configuration(readTimeout: .seconds(60), downloadAttempts: 3))) { reader in
                // The bytes before the cut are good and served.
                let head = try await reader.read(video, offset: 0, size: 200_000)
                #expect(head[...] == fixture.source[0..<200_000])
                let error = await readError { try await reader.read(video, offset: 600_000, size: 1000) }
                let failure = try #require(error as? VideoReadError)
                #expect(failure.fuseErrno == EIO)
                guard case .downloadFailed(.streamCut) = failure else {
                    Issue.record("expected a cut stream, got \(failure)")
                    return
                }
                // During the cooldown, reads that need the missing bytes fail at once, without a download.
                let again = await readError { try await reader.read(video, offset: 900_000, size: 1000) }
                #expect((again as? VideoReadError)?.fuseErrno == EIO)
                #expect(fixture.downloads(video) == 3)
                let stillCached = try await reader.read(video, offset: 100_000, size: 50_000)
                #expect(stillCached[...] == fixture.source[100_000..<150_000])
            }
        }
    }

    @Test("a stalled download makes a read time out with ETIMEDOUT")
    func stalledDownloadTimesOut() async throws {
        try await LibraryFixture.with(size: 1_000_000, rangeRequests: false) { fixture in
            let video = fixture.videos[0]
            fixture.server.setFaults(.init(stallAfterBytes: 200_000, endpoints: [.download]))
            try await withReader(fixture.makeReader(fixture.configuration(readTimeout: .milliseconds(800)))) { reader in
                let started = ContinuousClock.now
                let error = await readError { try await reader.read(video, offset: 700_000, size: 1000) }
                let elapsed = ContinuousClock.now - started
                #expect((error as? VideoReadError) == .timedOut)
                #expect((error as? VideoReadError)?.fuseErrno == ETIMEDOUT)
                // Never early; late only by what a loaded machine adds.
                #expect(elapsed >= .milliseconds(700) && elapsed < .seconds(60))
            }
        }
    }

    @Test("a stall is cut by the client's idle timeout and the download retried")
    func stallIsRetried() async throws {
        try await LibraryFixture.with(
            size: 1_000_000, rangeRequests: false,
            clientTimeouts: Timeouts(connect: .seconds(30), request: .seconds(120), idleRead: .seconds(1), connectionIdle: .seconds(180)),
            clientRetry: .never
        ) { fixture in
            let video = fixture.videos[0]
            fixture.server.setFaults(.init(stallAfterBytes: 300_000, stallCount: 1, endpoints: [.download]))
            try await withReader(fixture.makeReader(fixture.configuration(readTimeout: .seconds(60)))) { reader in
                let bytes = try await readSequentially(reader, video)
                #expect(bytes == fixture.source)
            }
            // One more than the stalled one; a loaded machine may go silent long enough for another.
            #expect((2...4).contains(fixture.downloads(video)))
        }
    }

    @Test("cut ranged fetches are fetched again; the bytes stay right")
    func cutRangedFetches() async throws {
        try await LibraryFixture.with(size: 3_000_000, rangeRequests: true) { fixture in
            let video = fixture.videos[0]
            // Ranged replies are slow, and two of them are cut.
            fixture.server.setFaults(.init(latencyMs: 300, cutAfterBytes: 100_000, cutCount: 2, endpoints: [.file]))
            try await withReader(fixture.makeReader()) { reader in
                var random = SeededGenerator(state: 7)
                for _ in 0..<40 {
                    let offset = Int.random(in: 0..<fixture.source.count, using: &random)
                    let bytes = try await reader.read(video, offset: UInt64(offset), size: 150_000)
                    #expect(bytes[...] == fixture.source[offset..<(offset + bytes.count)])
                }
                let readBack = try await readSequentially(reader, video)
                #expect(readBack == fixture.source)
            }
            // Two failures in a row are not enough to give up on Range for the video.
            #expect(fixture.downloads(video) == 0)
        }
    }

    @Test("a source that ignores Range is remembered as range-less; reads wait for the stream")
    func ignoredRangeFallsBack() async throws {
        try await LibraryFixture.with(videos: 2, size: 1_000_000, rangeRequests: false) { fixture in
            try await withReader(fixture.makeReader()) { reader in
                let first = fixture.videos[0]
                let tail = try await reader.read(first, offset: 990_000, size: 10_000)
                #expect(tail[...] == fixture.source[990_000...])
                #expect(fixture.fileRequests(first) == 1, "one ranged request, answered 200, taught us")
                let second = fixture.videos[1]
                let other = try await reader.read(second, offset: 990_000, size: 10_000)
                #expect(other[...] == fixture.source[990_000...])
                #expect(fixture.fileRequests(second) == 0, "the origin is known to ignore Range")
            }
        }
    }

    @Test("forgetting a deleted video stops its stream, fails its waiting reads and removes its files")
    func forget() async throws {
        try await LibraryFixture.with(videos: 2, size: 1_000_000, rangeRequests: false) { fixture in
            let (gone, kept) = (fixture.videos[0], fixture.videos[1])
            fixture.server.setFaults(.init(stallAfterBytes: 300_000, stallCount: 1, endpoints: [.download]))
            try await withReader(fixture.makeReader()) { reader in
                _ = try await reader.read(gone, offset: 0, size: 100_000)
                let waiting = Task { try await reader.read(gone, offset: 800_000, size: 1000) }
                try await Task.sleep(for: .milliseconds(100))
                reader.forget(videoNo: gone.videoNo)
                let error = await readError { try await waiting.value }
                #expect((error as? VideoReadError) == .forgotten)
                let readBack = try await readSequentially(reader, kept)
                #expect(readBack == fixture.source)
                try await waitUntil("the stream to stop", timeout: 5) { reader.stats().downloadsInFlight.allSatisfy { $0.videoNo != gone.videoNo } }
            }
            #expect(cacheRecordFiles(fixture.cacheDirectory).count == 1)
            #expect(cacheDataFiles(fixture.cacheDirectory).count == 1)
        }
    }
}
