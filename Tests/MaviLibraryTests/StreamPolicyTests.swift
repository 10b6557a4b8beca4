import Foundation
import MaviAPI
import MaviClient
@testable import MaviLibrary
import MaviServer
import TestSupport
import Testing

/// What happens to the one stream per video when readers come and go, and how ranged reads
/// follow a sequential reader.
@Suite("Stream policy and read-ahead", .timeLimit(.minutes(5)))
struct StreamPolicyTests {
    @Test("a reader that gives up does not cancel the stream others wait on")
    func cancelledReaderLeavesStream() async throws {
        try await LibraryFixture.with(size: 2_000_000, rangeRequests: false) { fixture in
            let video = fixture.videos[0]
            // A slow start, so the first reader is surely waiting when it is cancelled.
            fixture.server.setFaults(.init(latencyMs: 500, endpoints: [.download]))
            try await withReader(fixture.makeReader()) { reader in
                let impatient = Task { try await reader.read(video, offset: 1_900_000, size: 1000) }
                try await Task.sleep(for: .milliseconds(100))
                impatient.cancel()
                let error = await readError { try await impatient.value }
                #expect((error as? VideoReadError) == .cancelled)
                let tail = try await reader.read(video, offset: 1_900_000, size: 100_000)
                #expect(tail[...] == fixture.source[1_900_000...])
                #expect(fixture.downloads(video) == 1)
            }
        }
    }

    @Test("a download whose readers all left before its turn leaves the queue and spends none of the budget")
    func abandonedDownloadSpendsNoTurn() async throws {
        // One download a minute, on a clock the test moves.
        let clock = ManualClock()
        let pacing = Pacing(limits: [.download: RateLimit(requests: 1, perSeconds: 60)], slack: .zero)
        try await LibraryFixture.with(videos: 3, size: 300_000, rangeRequests: false, pacing: pacing, clock: TimeSource(clock)) { fixture in
            let (first, abandoned, next) = (fixture.videos[0], fixture.videos[1], fixture.videos[2])
            try await withReader(fixture.makeReader()) { reader in
                // The first video takes the minute's download.
                reader.opened(first)
                let bytes = try await reader.read(first, offset: 0, size: fixture.source.count)
                #expect(bytes == fixture.source)
                reader.closed(first)
                // The second waits for the next turn; its reader gives up and closes the file.
                reader.opened(abandoned)
                let waiting = Task { try await reader.read(abandoned, offset: 0, size: 1000) }
                try await clock.waitForSleepers()
                #expect(clock.sleepers == [.seconds(60)])
                waiting.cancel()
                #expect((await readError { try await waiting.value } as? VideoReadError) == .cancelled)
                reader.closed(abandoned)
                try await waitUntil("the abandoned download to leave the queue") {
                    clock.sleepers.isEmpty && reader.stats().downloadsInFlight.allSatisfy { $0.videoNo != abandoned.videoNo }
                }
                // The next video gets the turn it left, at the end of the first minute.
                reader.opened(next)
                let reading = Task { try await reader.read(next, offset: 0, size: fixture.source.count) }
                try await clock.waitForSleepers()
                #expect(clock.sleepers == [.seconds(60)])
                clock.advance(by: .seconds(60))
                #expect(try await reading.value == fixture.source)
                reader.closed(next)
            }
            #expect(fixture.downloads(first) == 1)
            #expect(fixture.downloads(abandoned) == 0, "the abandoned request never reached the server")
            #expect(fixture.downloads(next) == 1)
        }
    }

    @Test("after the last handle closes, the stream finishes in the background")
    func backgroundCompletion() async throws {
        try await LibraryFixture.with(size: 2_000_000, rangeRequests: false) { fixture in
            let video = fixture.videos[0]
            try await withReader(fixture.makeReader(fixture.configuration(maxBackgroundDownloads: 1))) { reader in
                reader.opened(video)
                let head = try await reader.read(video, offset: 0, size: 10_000)
                #expect(head[...] == fixture.source[0..<10_000])
                reader.closed(video)
                try await waitUntil("the video to be complete", timeout: 30) { reader.stats().completeFiles == 1 }
                fixture.server.resetStats()
                let bytes = try await readSequentially(reader, video)
                #expect(bytes == fixture.source)
                #expect(fixture.downloads(video) == 0)
            }
        }
    }

    @Test("with no room for background downloads, the stream stops when the last handle closes")
    func stopWhenNobodyWaits() async throws {
        try await LibraryFixture.with(size: 3_000_000, rangeRequests: false) { fixture in
            let video = fixture.videos[0]
            // Slow the stream down so that it is still running when the handle closes.
            fixture.server.setFaults(.init(stallAfterBytes: 1_000_000, stallCount: 1, endpoints: [.download]))
            try await withReader(fixture.makeReader(fixture.configuration(maxBackgroundDownloads: 0))) { reader in
                reader.opened(video)
                let head = try await reader.read(video, offset: 0, size: 500_000)
                #expect(head[...] == fixture.source[0..<500_000])
                #expect(reader.stats().downloadsInFlight.count == 1)
                reader.closed(video)
                try await waitUntil("the stream to stop", timeout: 10) { reader.stats().downloadsInFlight.isEmpty }
                let stats = reader.stats()
                #expect(stats.completeFiles == 0)
                #expect(stats.bytesCached >= 500_000 / Int64(testBlockSize) * Int64(testBlockSize))
                // What was cached stays served; the rest comes from a new download.
                let bytes = try await readSequentially(reader, video)
                #expect(bytes == fixture.source)
                #expect(fixture.downloads(video) == 2)
            }
        }
    }

    @Test("a handle opened again adopts the stream still running")
    func reopenAdoptsStream() async throws {
        try await LibraryFixture.with(size: 2_000_000, rangeRequests: false) { fixture in
            let video = fixture.videos[0]
            try await withReader(fixture.makeReader()) { reader in
                reader.opened(video)
                _ = try await reader.read(video, offset: 0, size: 1000)
                reader.closed(video)
                reader.opened(video)
                defer { reader.closed(video) }
                let bytes = try await readSequentially(reader, video)
                #expect(bytes == fixture.source)
                #expect(fixture.downloads(video) == 1)
            }
        }
    }

    @Test("a sequential reader in the middle of a video is served by ranged fetches with growing read-ahead, and no download")
    func rangedReadAheadGrows() async throws {
        try await LibraryFixture.with(size: 4_000_000, rangeRequests: true) { fixture in
            let video = fixture.videos[0]
            try await withReader(fixture.makeReader()) { reader in
                let start = 2_000_000
                var offset = start
                while offset < fixture.source.count {
                    let bytes = try await reader.read(video, offset: UInt64(offset), size: 32_768)
                    #expect(bytes[...] == fixture.source[offset..<(offset + bytes.count)])
                    offset += bytes.count
                }
                let blocks = (fixture.source.count - start) / testBlockSize
                let requests = fixture.fileRequests(video)
                #expect(requests >= 2, "the reads went by Range")
                #expect(requests <= blocks / 3, "\(requests) ranged requests for \(blocks) blocks: the read-ahead grew")
                #expect(fixture.downloads(video) == 0, "Range first: the download endpoint was not called")
            }
        }
    }

    @Test("readers at five places over slow, cut ranged replies: every byte right, and the file completes")
    func slowCutRangesFromManyPlaces() async throws {
        try await LibraryFixture.with(size: 3_000_000, rangeRequests: true) { fixture in
            let video = fixture.videos[0]
            // Ranged replies are slow and some are cut: each is fetched again, and three failures
            // in a row on the video would hand it to the download stream.
            fixture.server.setFaults(.init(latencyMs: 200, cutAfterBytes: 150_000, cutCount: 3, endpoints: [.file]))
            try await withReader(fixture.makeReader()) { reader in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for start in stride(from: 0, to: fixture.source.count, by: 600_000) {
                        group.addTask {
                            var offset = start
                            while offset < min(start + 600_000, fixture.source.count) {
                                let bytes = try await reader.read(video, offset: UInt64(offset), size: 65_536)
                                #expect(bytes[...] == fixture.source[offset..<(offset + bytes.count)])
                                offset += bytes.count
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                try await waitUntil("any stream to end", timeout: 60) { reader.stats().downloadsInFlight.isEmpty }
                #expect(reader.stats().completeFiles == 1)
                #expect(fixture.downloads(video) <= 1)
            }
        }
    }
}
