import Foundation
import MaviAPI
@testable import MaviClient
import MaviServer
import Testing
import TestSupport

@Suite("Against mavifs serve: search, transcripts and captions", .timeLimit(.minutes(2)))
struct LiveSearchTests {
    @Test("typed search, phrase search, transcript and captions; nil where there are none")
    func typed() async throws {
        try await withLiveLibrary { library in
            let client = library.client
            let beach = try await library.uploadAndWait(try await SubtitledVideos.beach()).videoNo
            let harbour = try await library.uploadAndWait(try await SubtitledVideos.harbour()).videoNo
            let silent = try await library.uploadAndWait(try await SubtitledVideos.silent()).videoNo

            let hits = try await client.search("quick brown fox")
            #expect(hits.map(\.videoNo) == [beach, harbour])
            #expect(hits[0].startTime == 1 && hits[0].endTime == 2.5 && hits[0].score == 1)
            let strict = try await client.search("quick brown fox", options: SearchOptions(filteringLevel: .high))
            #expect(strict.map(\.videoNo) == [beach])
            let captions = try await client.search("red ball", options: SearchOptions(type: .byCaption, topK: 200))
            #expect(captions.map(\.videoNo) == [beach])
            #expect(try await client.search("red ball", options: SearchOptions(type: .byImage)).isEmpty, "the image library's other shape reads as no video hits")

            let phrase = try await client.searchAudioTranscripts("brown", pageSize: 1)
            #expect(phrase.totalCount == 2 && phrase.videos.map(\.videoNo) == [harbour])

            let speech = try #require(try await client.audioTranscription(videoNo: beach))
            #expect(speech.segments.map(\.content) == ["Hello world", "The quick brown fox"])
            #expect(try await client.videoCaption(videoNo: beach)?.segments.map(\.content) == ["A red ball on the sand"])
            #expect(try await client.videoCaption(videoNo: harbour) == nil)
            #expect(try await client.audioTranscription(videoNo: silent) == nil)
            #expect(try await client.audioTranscription(videoNo: "VI404") == nil)
        }
    }

    @Test("bad requests are refused before anything is sent")
    func refusedLocally() async throws {
        try await withLiveLibrary { library in
            let client = library.client
            await #expect(throws: MaviClientError.self) { try await client.search("  ") }
            await #expect(throws: MaviClientError.self) { try await client.search("x", options: SearchOptions(topK: 0)) }
            await #expect(throws: MaviClientError.self) { try await client.search("x", options: SearchOptions(type: .byCaption, topK: 201)) }
            await #expect(throws: MaviClientError.self) { try await client.search("x", options: SearchOptions(latitude: 1)) }
            await #expect(throws: MaviClientError.self) { try await client.searchAudioTranscripts("x", pageSize: 501) }
            await #expect(throws: MaviClientError.self) { try await client.audioTranscription(videoNo: "") }
            #expect(library.stats.requests(.search) == 0 && library.stats.requests(.searchAudioTranscripts) == 0)
            #expect(library.stats.requests(.getAudioTranscription) == 0)
        }
    }

    @Test("paced at 1 a second: searches, and the transcript endpoints together, are never refused")
    func paced() async throws {
        try await withLiveLibrary(rateLimits: true, client: { $0.pacing = .documented; $0.retry = .never }) { library in
            let client = library.client
            let started = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<3 { group.addTask { _ = try await client.search("anything") } }
                group.addTask { _ = try await client.audioTranscription(videoNo: "VI1") }
                group.addTask { _ = try await client.videoCaption(videoNo: "VI1") }
                group.addTask { _ = try await client.searchAudioTranscripts("anything") }
                try await group.waitForAll()
            }
            // Three of each kind, one a second: the third of either waits two seconds.
            #expect(ContinuousClock.now - started >= .milliseconds(1_950))
            #expect(library.stats.requests(.search) == 3)
            #expect(library.stats.requests(.getAudioTranscription) + library.stats.requests(.getVideoCaption)
                + library.stats.requests(.searchAudioTranscripts) == 3)
        }
    }
}
