import MaviAPI
import MaviClient
import MaviServer
@testable import MaviLibrary
import Testing
import TestSupport

/// Connections kept open to the video origins: each round is two one-byte ranged requests per
/// origin, which also tell whether it honours Range before any read asks.
@Suite("Warm connections to the video origins", .timeLimit(.minutes(2)))
struct WarmConnectionsTests {
    @Test("an origin that honours Range is learnt before any read, with two one-byte requests and no download", arguments: [true, false])
    func warmsAndProbes(rangeRequests: Bool) async throws {
        try await LibraryFixture.with(videos: 3, rangeRequests: rangeRequests) { library in
            let reader = try library.makeReader()
            try await withReader(reader) { reader in
                let sources = reader.warmableSources(library.videos)
                #expect(sources.count == 1, "one origin for all three videos")
                let origin = try #require(sources.first?.origin)
                #expect(reader.rangeSupport.support(of: origin) == .unknown)

                let videos = library.videos
                let warming = Task { await reader.keepConnectionsWarm { videos } }
                defer { warming.cancel() }
                try await waitUntil("the origin to be probed", timeout: 60) { reader.rangeSupport.support(of: origin) != .unknown }
                #expect(reader.rangeSupport.support(of: origin) == (rangeRequests ? .honoured : .ignored))
                #expect(library.fileRequests(library.videos[0]) == VideoReader.spareConnections)
                #expect(library.videos.allSatisfy { library.downloads($0) == 0 }, "never the download endpoint")
                // An origin known to ignore Range is left alone from then on.
                #expect(reader.warmableSources(library.videos).isEmpty == !rangeRequests)
            }
        }
    }

    @Test("the round before a mount appears waits a bounded time: an origin that does not answer does not hold the mount up")
    func boundedBeforeMount() async throws {
        try await LibraryFixture.with(videos: 1) { library in
            library.server.setFaults(FaultSettings(hang: true, endpoints: [.file]))
            defer { library.server.setFaults(FaultSettings()) }
            let reader = try library.makeReader()
            try await withReader(reader) { reader in
                // Returns although no answer will come; the round it started goes on.
                let round = await reader.warmConnections(for: library.videos, within: .milliseconds(200))
                let origin = try #require(reader.warmableSources(library.videos).first?.origin)
                #expect(reader.rangeSupport.support(of: origin) == .unknown)
                round.cancel()
            }
        }
    }
}
