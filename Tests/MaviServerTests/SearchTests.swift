import Foundation
import MaviAPI
import Testing
import TestSupport

/// Three processed videos: "dog on the beach" (speech + captions), "harbour walk" (speech),
/// "silent" (no audio, no subtitles).
private struct SearchLibrary {
    var api: TestAPI
    var server: RunningLibraryServer
    var beach: String
    var harbour: String
    var silent: String
}

private func withSearchLibrary(_ body: (SearchLibrary) async throws -> Void) async throws {
    let (beachFile, harbourFile, silentFile) = try await (SubtitledVideos.beach(), SubtitledVideos.harbour(), SubtitledVideos.silent())
    try await ServerHarness.withServer(rateLimits: false) { server in
        let api = TestAPI(server)
        let beach = try await api.uploadOK(file: beachFile, fileName: "dog on the beach.mp4", fields: [("tags", "holiday")])
        let harbour = try await api.uploadOK(file: harbourFile, fileName: "harbour walk.mp4")
        let silent = try await api.uploadOK(file: silentFile, fileName: "silent.mp4")
        for videoNo in [beach, harbour, silent] {
            #expect(try await api.waitUntilProcessed(videoNo).status == .parsed)
        }
        try await body(SearchLibrary(api: api, server: server, beach: beach, harbour: harbour, silent: silent))
    }
}

private extension TestAPI {
    func search(_ fields: [String: Any]) async throws -> HTTPReply {
        try await send(.POST, APIPath.search, body: try JSONSerialization.data(withJSONObject: fields))
    }

    func hits(_ fields: [String: Any]) async throws -> [SearchHit] {
        let envelope = try await search(fields).envelope(SearchHits.self)
        guard envelope.isSuccess else { throw TestFailure("search refused: \(envelope.code) \(envelope.msg)") }
        return envelope.data?.hits ?? []
    }

    func transcript(_ path: String, _ videoNo: String) async throws -> Envelope<Transcript> {
        try await get(path + "?video_no=\(videoNo)").envelope(Transcript.self)
    }
}

@Suite("Search, transcripts and captions")
struct SearchTests {
    @Test("transcripts and captions come from the file's subtitle tracks; data null where there are none")
    func transcripts() async throws {
        try await withSearchLibrary { library in
            let api = library.api
            let speech = try await api.get(APIPath.getAudioTranscription + "?video_no=\(library.beach)")
            let raw = try #require(try speech.json()["data"] as? [String: Any])
            let first = try #require((raw["transcriptions"] as? [[String: Any]])?.first)
            #expect(first["startTime"] as? String == "0" && first["endTime"] as? String == "1", "times are strings of seconds")
            let segments = try #require(try speech.envelope(Transcript.self).data).segments
            #expect(segments == [
                TranscriptSegment(index: 1, content: "Hello world", startTime: 0, endTime: 1),
                TranscriptSegment(index: 2, content: "The quick brown fox", startTime: 1, endTime: 2.5),
            ])
            let captions = try #require(try await api.transcript(APIPath.getVideoCaption, library.beach).data)
            #expect(captions.segments.map(\.content) == ["A red ball on the sand"])

            #expect(try await api.transcript(APIPath.getVideoCaption, library.harbour).data == nil, "one track: no captions")
            for path in [APIPath.getAudioTranscription, APIPath.getVideoCaption] {
                let none = try await api.transcript(path, library.silent)
                #expect(none.isSuccess && none.data == nil)
                #expect(try await api.transcript(path, "VI404").data == nil)
                let missing = try await api.get(path).envelope()
                #expect(missing.code == APICode.invalidParameter.rawValue && missing.msg == APIMessage.videoNoEmpty)
            }
        }
    }

    @Test("search ranks names, tags, transcripts and captions by words; one hit per clip, best first")
    func ranking() async throws {
        try await withSearchLibrary { library in
            let api = library.api
            let fox = try await api.hits(["search_param": "quick brown fox", "search_type": "BY_CLIP", "top_k": 10])
            #expect(fox.map(\.videoNo) == [library.beach, library.harbour])
            #expect(fox[0].startTime == 1 && fox[0].endTime == 2.5 && fox[0].score == 1)
            #expect(fox[1].startTime == 0.5 && fox[1].endTime == 1.5 && abs(fox[1].score - 0.267) < 0.001)

            let medium = try await api.hits(["search_param": "quick brown fox", "search_type": "BY_CLIP", "filtering_level": "medium"])
            #expect(medium.count == 2)
            let high = try await api.hits(["search_param": "quick brown fox", "search_type": "BY_CLIP", "filtering_level": "high"])
            #expect(high.map(\.videoNo) == [library.beach])
            let one = try await api.hits(["search_param": "quick brown fox", "search_type": "BY_CLIP", "top_k": 1])
            #expect(one.count == 1 && one[0].videoNo == library.beach)

            // "dog": the name of one (a whole-video clip), the speech of the other.
            let dog = try await api.hits(["search_param": "Dog", "search_type": "BY_VIDEO"])
            #expect(Set(dog.map(\.videoNo)) == [library.beach, library.harbour] && dog.count == 2)
            let byName = try #require(dog.first { $0.videoNo == library.beach })
            #expect(byName.startTime == 0 && byName.endTime == 3 && byName.score == 1)
            #expect(try await api.hits(["search_param": "holiday", "search_type": "BY_CLIP"]).map(\.videoNo) == [library.beach], "tags count")

            #expect(try await api.hits(["search_param": "dog", "search_type": "BY_AUDIO"]).map(\.videoNo) == [library.harbour], "BY_AUDIO: speech only")
            let ball = try await api.hits(["search_param": "red ball", "search_type": "BY_CAPTION"])
            #expect(ball.map(\.videoNo) == [library.beach] && ball[0].startTime == 0.5)
            #expect(try await api.hits(["search_param": "red ball", "search_type": "BY_AUDIO"]).isEmpty)

            let filtered = try await api.hits(["search_param": "brown", "search_type": "BY_CLIP", "video_nos": [library.harbour]])
            #expect(filtered.map(\.videoNo) == [library.harbour])
            #expect(try await api.hits(["search_param": "brown", "search_type": "BY_CLIP", "tag": "holiday"]).map(\.videoNo) == [library.beach])
            #expect(try await api.hits(["search_param": "zebra", "search_type": "BY_CLIP"]).isEmpty)

            let raw = try await api.search(["search_param": "fox", "search_type": "BY_CLIP"]).json()
            let item = try #require((raw["data"] as? [[String: Any]])?.first)
            #expect(item["startTime"] as? String == "1" && item["endTime"] as? String == "2.5" && item["score"] is Double)
            #expect(item["videoName"] as? String == "dog on the beach" && item.keys.contains("keyframe_blob"))
        }
    }

    @Test("search and search_audio_transcripts refuse bad parameters with 0001")
    func validation() async throws {
        try await ServerHarness.withServer { server in
            let api = TestAPI(server)
            let bad: [[String: Any]] = [
                [:], ["search_param": "  "], ["search_param": "x", "search_type": "BY_SMELL"],
                ["search_param": "x", "top_k": 0], ["search_param": "x", "top_k": 1001],
                ["search_param": "x", "search_type": "BY_CAPTION", "top_k": 201],
                ["search_param": "x", "filtering_level": "extreme"],
                ["search_param": "x", "video_nos": (0...100).map { "VI\($0)" }],
                ["search_param": "x", "latitude": 1.0], ["search_param": "x", "top_k": "many"],
            ]
            for body in bad {
                let envelope = try await api.search(body).envelope()
                #expect(envelope.code == APICode.invalidParameter.rawValue, "\(body)")
                #expect(!envelope.msg.isEmpty)
            }
            #expect(try await api.search(["search_param": "x", "search_type": "BY_CAPTION", "top_k": 200]).envelope(SearchHits.self).isSuccess)
            let image = try await api.search(["search_param": "x", "search_type": "BY_IMAGE"]).json()
            #expect((image["data"] as? [String: Any])?["item"] is [Any])
            for query in ["", "?query=", "?query=x&page_size=0", "?query=x&page_size=501", "?query=x&page=0", "?query=x&page=two"] {
                let envelope = try await api.get(APIPath.searchAudioTranscripts + query).envelope()
                #expect(envelope.code == APICode.invalidParameter.rawValue, "\(query)")
            }
        }
    }

    @Test("search_audio_transcripts: the exact phrase, paged, total_count as a string")
    func phrase() async throws {
        try await withSearchLibrary { library in
            let api = library.api
            let reply = try await api.get(APIPath.searchAudioTranscripts + "?query=brown&page=1&page_size=1")
            let data = try #require(try reply.json()["data"] as? [String: Any])
            #expect(data["total_count"] as? String == "2")
            let page = try #require(try reply.envelope(TranscriptMatchPage.self).data)
            #expect(page.currentPage == 1 && page.pageSize == 1 && page.videos.count == 1)
            #expect(page.videos[0].videoNo == library.harbour && page.videos[0].startTime == 0.5, "newest video first")
            let second = try #require(try await api.get(APIPath.searchAudioTranscripts + "?query=brown&page=2&page_size=1").envelope(TranscriptMatchPage.self).data)
            #expect(second.videos.map(\.videoNo) == [library.beach] && second.videos[0].startTime == 1)

            let exact = try #require(try await api.get(APIPath.searchAudioTranscripts + "?query=QUICK%20BROWN").envelope(TranscriptMatchPage.self).data)
            #expect(exact.videos.map(\.videoNo) == [library.beach] && exact.totalCount == 1)
            let notAPhrase = try #require(try await api.get(APIPath.searchAudioTranscripts + "?query=fox%20brown").envelope(TranscriptMatchPage.self).data)
            #expect(notAPhrase.videos.isEmpty && notAPhrase.totalCount == 0, "words out of order are not the phrase")
            let captionsOnly = try #require(try await api.get(APIPath.searchAudioTranscripts + "?query=red%20ball").envelope(TranscriptMatchPage.self).data)
            #expect(captionsOnly.videos.isEmpty, "captions are not speech")
        }
    }

    @Test("search is limited to 1 a second; the three transcript endpoints share another 1 a second")
    func limits() async throws {
        try await ServerHarness.withServer(rateLimits: true) { server in
            let api = TestAPI(server)
            /// Sends every request at once; the codes, and how long the burst took.
            func burst(_ requests: [@Sendable () async throws -> HTTPReply]) async throws -> ([String], Duration) {
                let started = ContinuousClock.now
                let codes = try await withThrowingTaskGroup(of: String.self) { group in
                    for request in requests { group.addTask { try await request().envelope().code } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                return (codes, ContinuousClock.now - started)
            }
            let searches = Array(repeating: { @Sendable in try await api.search(["search_param": "x"]) }, count: 6)
            let (searchCodes, searchTime) = try await burst(searches)
            let admitted = searchCodes.filter { $0 == APICode.success.rawValue }.count
            #expect(searchCodes.contains(APICode.rateLimited.rawValue) && admitted >= 1, "\(searchCodes)")
            // One a second: never more admitted than the seconds the burst spanned, plus one.
            #expect(admitted <= Int(searchTime.components.seconds) + 1, "\(admitted) in \(searchTime)")

            let paths = [APIPath.getAudioTranscription + "?video_no=VI1", APIPath.getVideoCaption + "?video_no=VI1", APIPath.searchAudioTranscripts + "?query=x"]
            let transcripts = (paths + paths).map { path in { @Sendable in try await api.get(path) } }
            let (codes, time) = try await burst(transcripts)
            let shared = codes.filter { $0 == APICode.success.rawValue }.count
            #expect(codes.contains(APICode.rateLimited.rawValue) && shared >= 1, "\(codes)")
            // Three limits of their own would let three through at once; one shared limit, one a second.
            #expect(shared <= Int(time.components.seconds) + 1, "\(shared) in \(time)")
            #expect(server.server.stats().requests(.search) == 6)
        }
    }
}
