import Foundation
import MaviAPI
import MaviClient
@testable import MaviLibrary
import Testing
import TestSupport

/// Without Range every video needs a download, 12 a minute: a sweep over many files queues for
/// turns. A read in that queue is waiting for its turn, not stalled, and must not time out.
@Suite("Reads queued for a download's turn", .timeLimit(.minutes(5)))
struct DownloadQueueTests {
    @Test("a read whose download waits for its turn under the rate limit outlives its timeout; the timeout counts from the turn")
    func queuedReadWaitsForItsTurn() async throws {
        // The rate limiter sleeps on a clock the test moves; the read's timeout runs on real time.
        let clock = ManualClock()
        var pacing = Pacing.unlimited
        pacing[.download] = RateLimit(requests: 1, perSeconds: 60)
        try await LibraryFixture.with(videos: 2, size: 300_000, rangeRequests: false, pacing: pacing, clock: TimeSource(clock)) { fixture in
            let first = fixture.videos[0], second = fixture.videos[1]
            let configuration = fixture.configuration(readTimeout: .seconds(3))
            try await withReader(fixture.makeReader(configuration)) { reader in
                // The first video takes the one download of this minute.
                let head = try await reader.read(first, offset: 0, size: 4096)
                #expect(head[...] == fixture.source[0..<4096])

                let queued = Task { try await reader.read(second, offset: 0, size: 4096) }
                var waited = Duration.zero
                while !reader.waitsForDownloadTurn(second), waited < .seconds(30) {
                    try await Task.sleep(for: .milliseconds(20))
                    waited += .milliseconds(20)
                }
                #expect(reader.waitsForDownloadTurn(second), "the second download waits for the next minute")
                // Well past the read timeout, the read still waits, and nothing was sent for it.
                try await Task.sleep(for: .seconds(7))
                #expect(reader.waitsForDownloadTurn(second))
                #expect(fixture.downloads(second) == 0)

                clock.advance(by: .seconds(61))
                let bytes = try await queued.value
                #expect(bytes[...] == fixture.source[0..<4096])
                #expect(fixture.downloads(second) == 1)
            }
        }
    }

    @Test("a read whose download was sent but brings nothing still times out")
    func sentDownloadThatStallsTimesOut() async throws {
        try await LibraryFixture.with(videos: 1, size: 300_000, rangeRequests: false) { fixture in
            let video = fixture.videos[0]
            fixture.server.setFaults(.init(hang: true, endpoints: [.download]))
            let configuration = fixture.configuration(readTimeout: .seconds(1))
            try await withReader(fixture.makeReader(configuration)) { reader in
                let error = await readError { try await reader.read(video, offset: 0, size: 4096) }
                #expect((error as? VideoReadError) == .timedOut, "\(String(describing: error))")
                #expect(!reader.waitsForDownloadTurn(video))
            }
        }
    }
}
