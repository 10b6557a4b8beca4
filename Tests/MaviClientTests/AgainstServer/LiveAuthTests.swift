import Foundation
import MaviAPI
@testable import MaviClient
import MaviServer
import Testing
import TestSupport

@Suite("Against mavifs serve: authorization", .timeLimit(.minutes(1)))
struct LiveAuthTests {
    static let wrongKey = "sk-mavi-wrong-key-5b0f3c"

    /// Every operation that needs the key, each run once with a client holding `key`.
    private func everyOperation(_ library: LiveLibrary, videoNo: String, upload: String) -> [(Endpoint, (MaviClient) async throws -> Void)] {
        [
            (.listVideos, { _ = try await $0.listVideos() }),
            (.getMetadata, { _ = try await $0.getMetadata(videoNo: videoNo) }),
            (.download, { _ = try await $0.download(videoNo: videoNo) }),
            (.downloadBlob, { _ = try await $0.downloadObject(bucket: "mavi-resource", blob: "\(videoNo).mp4") }),
            (.deleteVideos, { try await $0.deleteVideos([videoNo]) }),
            (.upload, { _ = try await $0.upload(file: upload) }),
        ]
    }

    @Test("a wrong or missing key is `unauthorized` on every operation, never retried, and touches nothing",
          arguments: [LiveAuthTests.wrongKey, nil] as [String?])
    func refused(key: String?) async throws {
        let upload = try await VideoFixtures.sharedMP4()
        try await withLiveLibrary { library in
            let videoNo = try #require(try await library.seed(1, sourceFile: upload).first)
            library.server.server.resetStats()
            try await library.withClient({ $0.apiKey = key.map { try! APIKey($0) } }) { client in
                for (endpoint, operation) in everyOperation(library, videoNo: videoNo, upload: upload) {
                    let error = await clientError { try await operation(client) }
                    guard case .unauthorized(let failure)? = error else { Issue.record("\(endpoint): got \(String(describing: error))"); continue }
                    #expect(failure.code == APICode.unauthorized.rawValue, "\(endpoint)")
                    #expect(library.stats.requests(endpoint) == 1, "\(endpoint) was sent once, not retried")
                    if let key {
                        for text in [String(describing: error), String(reflecting: error)] {
                            #expect(!text.contains(key), "\(endpoint): the error holds the key")
                        }
                    }
                }
            }
            // Nothing was deleted, uploaded or streamed.
            #expect(try await library.client.listVideos().videos.map(\.videoNo) == [videoNo])
            #expect(library.stats.downloads.isEmpty && library.stats.blobDownloads.isEmpty)
        }
    }

    @Test("the Bearer scheme is accepted like the raw key")
    func bearer() async throws {
        try await withLiveLibrary { library in
            let seeded = try await library.seed(2)
            let page = try await library.withClient({ $0.authScheme = .bearer }) { try await $0.listVideos() }
            #expect(Set(page.videos.map(\.videoNo)) == Set(seeded))
        }
    }

    @Test("namespaces are isolated: another unique_id sees none of the videos")
    func namespaces() async throws {
        try await withLiveLibrary { library in
            let seeded = try await library.seed(4)
            let (count, metadata) = try await library.withClient({ $0.namespace = "another-space" }) { other in
                (try await other.listVideos().totalCount, try await other.getMetadata(videoNo: seeded[0]))
            }
            #expect(count == 0 && metadata == nil)
            #expect(try await library.client.listVideos().totalCount == Int64(seeded.count))
        }
    }
}
