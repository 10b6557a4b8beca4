import Foundation
import MaviAPI
@testable import MaviClient
import Synchronization
import Testing
import TestSupport

@Suite("Against mavifs serve: delete", .timeLimit(.minutes(1)))
struct LiveDeleteTests {
    @Test("250 ids are deleted in 3 requests within the server's rate limit; the rest stay")
    func batches() async throws {
        try await withLiveLibrary(rateLimits: true, client: { $0.pacing = .documented }) { library in
            let seeded = try await library.seed(260)
            let doomed = Array(seeded.shuffled().prefix(250))
            let heard = Mutex<[Int]>([])
            try await library.client.deleteVideos(doomed) { batch in heard.withLock { $0.append(batch.count) } }

            #expect(heard.withLock { $0 } == [100, 100, 50])
            #expect(library.stats.requests(.deleteVideos) == 3)
            let left = try await library.client.allVideos(size: 200)
            #expect(Set(left.map(\.videoNo)) == Set(seeded).subtracting(doomed))
            #expect(try await library.client.getMetadata(videoNo: doomed[0]) == nil)
        }
    }

    @Test("unknown ids, and ids of another namespace, are a silent no-op")
    func unknownIDs() async throws {
        try await withLiveLibrary { library in
            let seeded = try await library.seed(3)
            try await library.client.deleteVideos(["VI404", "VI0", "not-an-id"])
            try await library.withClient({ $0.namespace = "another-space" }) { other in
                try await other.deleteVideos(seeded)
            }
            #expect(library.stats.requests(.deleteVideos) == 2)
            #expect(try await library.client.listVideos().totalCount == Int64(seeded.count))
        }
    }

    @Test("a deleted video's file is gone: its download and file URL fail")
    func filesRemoved() async throws {
        let source = try await VideoFixtures.sharedMP4()
        try await withLiveLibrary { library in
            let videoNo = try #require(try await library.seed(1, sourceFile: source).first)
            let url = try #require(try await library.client.getMetadata(videoNo: videoNo)?.videoURL.flatMap(URL.init(string:)))
            try await library.client.deleteVideos([videoNo])

            let download = await clientError { try await library.client.download(videoNo: videoNo) }
            guard case .jsonInsteadOfBytes? = download else { Issue.record("got \(String(describing: download))"); return }
            let file = await clientError { try await library.client.fetchRange(url, range: 0...9) }
            guard case .httpStatus(let failure)? = file else { Issue.record("got \(String(describing: file))"); return }
            #expect(failure.status == 404)
        }
    }
}
