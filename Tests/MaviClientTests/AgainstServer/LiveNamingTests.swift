import Foundation
import MaviAPI
@testable import MaviClient
import Testing
import TestSupport

@Suite("Against mavifs serve: names and namespaces beyond plain ASCII", .timeLimit(.minutes(1)))
struct LiveNamingTests {
    @Test("a namespace with spaces, &, +, / and accents works for every operation, and stays apart", arguments: [
        "família & amigos/2024 + más",
        "a=b?c#d%20e",
    ])
    func unusualNamespace(namespace: String) async throws {
        let source = try await VideoFixtures.sharedMP4()
        try await withLiveLibrary(client: { $0.namespace = namespace }) { library in
            let video = try await library.uploadAndWait(source, fields: UploadFields(tags: ["família"]))
            #expect(video.status == .parsed)
            #expect(try await library.client.listVideos().videos.map(\.videoNo) == [video.videoNo])
            #expect(try await library.client.listVideos(filter: VideoFilter(tag: "família")).videos.count == 1)
            let downloaded = try await data(of: library.client.download(videoNo: video.videoNo))
            #expect(downloaded == (try contents(of: source)))
            let url = try #require(video.videoURL.flatMap(URL.init(string:)))
            guard case .partial = try await library.client.fetchRange(url, range: 0...99) else {
                Issue.record("the file URL of a namespace with an unusual name does not honour Range")
                return
            }

            // The default namespace, and names that differ only in how they would be encoded, see
            // nothing.
            let twins = [
                namespace.replacingOccurrences(of: " ", with: "+"),
                namespace.replacingOccurrences(of: "%20", with: " "),
            ].filter { $0 != namespace }
            #expect(!twins.isEmpty)
            for other in [APILimits.defaultNamespace] + twins {
                let count = try await library.withClient({ $0.namespace = other }) { try await $0.listVideos().totalCount }
                #expect(count == 0, "\(other)")
            }

            try await library.client.deleteVideos([video.videoNo])
            #expect(try await library.client.getMetadata(videoNo: video.videoNo) == nil)
        }
    }

    @Test("a file name with accents, spaces and quotes becomes the video name, and the name filter finds it")
    func unusualFileName() async throws {
        let source = try await VideoFixtures.sharedMP4()
        for name in ["Été à Paris (1)", #"say "cheese""#, "100% fun; really"] {
            try await withLiveLibrary { library in
                let reply = try await library.client.upload(file: source, fields: UploadFields(fileName: name + ".mp4"))
                #expect(reply.videoName == name)
                let found = try await library.client.listVideos(filter: VideoFilter(videoName: name))
                #expect(found.videos.map(\.videoNo) == [reply.videoNo], "\(name)")
            }
        }
    }
}
