import Foundation
import MaviAPI
@testable import MaviClient
import MaviServer
import Testing
import TestSupport

@Suite("Against mavifs serve: injected faults", .timeLimit(.minutes(1)))
struct LiveFaultTests {
    @Test("a burst of 503s shorter than the attempts is retried away")
    func serviceUnavailableBurst() async throws {
        try await withLiveLibrary { library in
            let seeded = try await library.seed(3)
            library.server.server.setFaults(FaultSettings(http503: liveRetry.maxAttempts - 1, endpoints: [.listVideos]))
            let page = try await library.client.listVideos()
            #expect(Set(page.videos.map(\.videoNo)) == Set(seeded))
            #expect(library.stats.requests(.listVideos) == liveRetry.maxAttempts)
        }
    }

    @Test("a longer burst of 503s fails after the last attempt, with the gateway's body")
    func serviceUnavailableForGood() async throws {
        try await withLiveLibrary { library in
            library.server.server.setFaults(FaultSettings(http503: 100, endpoints: [.getMetadata]))
            let error = await clientError { try await library.client.getMetadata(videoNo: "VI1") }
            guard case .httpStatus(let failure)? = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(failure.status == 503 && failure.infrastructure?.status == 503)
            #expect(failure.infrastructure?.path == APIPath.getMetadata)
            #expect(library.stats.requests(.getMetadata) == liveRetry.maxAttempts)
        }
    }

    @Test("a burst of 0429s on download is waited out; the file is streamed once")
    func rateLimitedDownload() async throws {
        try await LiveDownloadTests.withSeededFile { library, video, bytes in
            library.server.server.setFaults(FaultSettings(rateLimited: 2, endpoints: [.download]))
            let downloaded = try await data(of: library.client.download(videoNo: video.videoNo))
            #expect(downloaded == bytes)
            #expect(library.stats.requests(.download) == 3 && library.stats.downloads[video.videoNo] == 1)
        }
    }

    @Test("an upload refused with 0429 or 503 is sent again, and stored once", arguments: [
        FaultSettings(rateLimited: 1, endpoints: [.upload]),
        FaultSettings(http503: 1, endpoints: [.upload]),
    ])
    func refusedUpload(fault: FaultSettings) async throws {
        try await withLiveLibrary { library in
            library.server.server.setFaults(fault)
            let reply = try await library.client.upload(file: try await VideoFixtures.sharedMP4())
            #expect(library.stats.requests(.upload) == 2)
            #expect(try await library.client.listVideos().videos.map(\.videoNo) == [reply.videoNo])
        }
    }

    @Test("a stream cut before its first byte is retried inside download")
    func cutBeforeFirstByte() async throws {
        try await LiveDownloadTests.withSeededFile { library, video, bytes in
            library.server.server.setFaults(FaultSettings(cutAfterBytes: 0, cutCount: 1, endpoints: [.download]))
            let downloaded = try await data(of: library.client.download(videoNo: video.videoNo))
            #expect(downloaded == bytes)
            #expect(library.stats.downloads[video.videoNo] == 2)
        }
    }

    @Test("a stream cut mid-way ends with streamCut, never a short file; the next download is whole")
    func cutMidStream() async throws {
        try await LiveDownloadTests.withSeededFile { library, video, bytes in
            let cut: Int64 = 600_000
            library.server.server.setFaults(FaultSettings(cutAfterBytes: cut, cutCount: 1, endpoints: [.download]))
            let error = await clientError { try await data(of: library.client.download(videoNo: video.videoNo)) }
            guard case .streamCut(.download, let received, _, _)? = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(received > 0 && received <= cut)
            #expect(error?.isTransient == true)

            let downloaded = try await data(of: library.client.download(videoNo: video.videoNo))

            #expect(downloaded == bytes)
        }
    }

    @Test("a ranged read cut short is streamCut with the length it expected")
    func cutRange() async throws {
        try await LiveDownloadTests.withSeededFile { library, video, _ in
            library.server.server.setFaults(FaultSettings(cutAfterBytes: 100, cutCount: 1, endpoints: [.file]))
            let url = try #require(video.videoURL.flatMap(URL.init(string:)))
            guard case .partial(_, let stream) = try await library.client.fetchRange(url, range: 0...99_999) else {
                Issue.record("the range was not honoured")
                return
            }
            let error = await clientError { try await stream.collect(upTo: 1 << 20) }
            guard case .streamCut(.range, let received, let expected, _)? = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(received <= 100 && expected == 100_000)
        }
    }

    @Test("a stalled stream ends with an idle timeout instead of hanging")
    func stalledStream() async throws {
        try await LiveDownloadTests.withSeededFile { library, video, bytes in
            library.server.server.setFaults(FaultSettings(stallAfterBytes: 300_000, stallCount: 1, endpoints: [.download]))
            let error = try await library.withClient({ $0.timeouts.idleRead = .seconds(1) }) { client in
                await clientError { try await data(of: client.download(videoNo: video.videoNo)) }
            }
            guard case .timeout(.download, .idleRead)? = error else { Issue.record("got \(String(describing: error))"); return }

            let downloaded = try await data(of: library.client.download(videoNo: video.videoNo))

            #expect(downloaded == bytes)
        }
    }

    @Test("a stream stalled before its first byte is retried inside download")
    func stalledBeforeFirstByte() async throws {
        try await LiveDownloadTests.withSeededFile { library, video, bytes in
            library.server.server.setFaults(FaultSettings(stallAfterBytes: 0, stallCount: 1, endpoints: [.download]))
            let downloaded = try await library.withClient({ $0.timeouts.idleRead = .seconds(2) }) { client in
                try await data(of: client.download(videoNo: video.videoNo))
            }
            #expect(downloaded == bytes)
            // At least one stream was started again (a starved test machine may need one more).
            #expect((library.stats.downloads[video.videoNo] ?? 0) >= 2)
        }
    }

    @Test("added latency only slows requests down; beyond the request timeout it is a timeout")
    func latency() async throws {
        try await withLiveLibrary { library in
            library.server.server.setFaults(FaultSettings(latencyMs: 300, endpoints: [.listVideos]))
            let started = ContinuousClock.now
            _ = try await library.client.listVideos()
            #expect(ContinuousClock.now - started >= .milliseconds(300))

            library.server.server.setFaults(FaultSettings(latencyMs: 3_000, endpoints: [.getMetadata]))
            let error = try await library.withClient({
                $0.timeouts.request = .milliseconds(500)
                $0.retry.maxAttempts = 2
            }) { client in
                await clientError { try await client.getMetadata(videoNo: "VI1") }
            }
            guard case .timeout(.getMetadata, .response)? = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(library.stats.requests(.getMetadata) == 2, "a timeout is retried")
        }
    }
}
