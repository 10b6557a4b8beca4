import Foundation
import MaviAPI
import Testing

private func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
    try JSONDecoder().decode(type, from: Data(json.utf8))
}

@Suite("Search, transcript and caption reply shapes")
struct SearchDecodingTests {
    @Test("search: a flat list of clip hits, times as strings of seconds")
    func searchHits() throws {
        let json = #"""
        {"code":"0000","msg":"success","success":true,"failed":false,"data":[
          {"videoNo":"VI1","videoName":"dog on the beach","startTime":"13","endTime":"18","audio_ts":null,
           "score":0.52,"video_bucket":"b","video_blob":"VI1.mp4","keyframe_bucket":null,"keyframe_blob":null},
          {"videoNo":"VI2","videoName":"cat","startTime":"0.5","endTime":"2.25","score":"0.3"},
          {"videoName":"no id"}, 42, null,
          {"videoNo":"VI3","startTime":7,"score":1.7}
        ]}
        """#
        let envelope = try decode(Envelope<SearchHits>.self, json)
        let hits = try #require(envelope.data).hits
        #expect(hits.map(\.videoNo) == ["VI1", "VI2", "VI3"], "items without an id and non-objects are skipped")
        #expect(hits[0].startTime == 13 && hits[0].endTime == 18 && hits[0].score == 0.52)
        #expect(hits[0].videoBlob == "VI1.mp4" && hits[0].audioTS == nil)
        #expect(hits[1].startTime == 0.5 && hits[1].endTime == 2.25 && hits[1].score == 0.3)
        #expect(hits[2].videoName == "VI3" && hits[2].endTime == nil && hits[2].score == 1, "scores are clamped to 0…1")
    }

    @Test("search: data null, or the BY_IMAGE object shape, reads as its list")
    func searchOtherShapes() throws {
        #expect(try decode(Envelope<SearchHits>.self, #"{"code":"0000","data":null}"#).data == nil)
        let wrapped = try decode(Envelope<SearchHits>.self, #"{"code":"0000","data":{"item":[{"videoNo":"VI9","score":0.2}]}}"#)
        #expect(wrapped.data?.hits.map(\.videoNo) == ["VI9"])
    }

    @Test("search hits encode times as strings of seconds and round-trip")
    func searchEncoding() throws {
        let hit = SearchHit(videoNo: "VI1", videoName: "a", startTime: 13, endTime: 18.5, score: 0.4)
        let data = try JSONEncoder().encode(hit)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["startTime"] as? String == "13" && object["endTime"] as? String == "18.5")
        #expect(try JSONDecoder().decode(SearchHit.self, from: data) == hit)
    }

    @Test("search request: snake_case keys, absent filters omitted")
    func searchRequest() throws {
        let request = SearchRequest(searchParam: "dog", searchType: .byAudio, uniqueID: "default", topK: 5, filteringLevel: .medium)
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(request)) as? [String: Any])
        #expect(object["search_param"] as? String == "dog" && object["search_type"] as? String == "BY_AUDIO")
        #expect(object["top_k"] as? Int == 5 && object["filtering_level"] as? String == "medium")
        #expect(object["video_nos"] == nil && object["tag"] == nil)
        let read = try decode(SearchRequest.self, #"{"search_param":"x","top_k":"7","video_nos":"VI1"}"#)
        #expect(read.topK == 7 && read.videoNos == ["VI1"] && read.searchType == nil)
    }

    @Test("filtering levels and top_k limits as documented")
    func levels() {
        #expect(FilteringLevel.low.minimumScore == 0.15 && FilteringLevel.medium.minimumScore == 0.225 && FilteringLevel.high.minimumScore == 0.4)
        #expect(SearchType.byCaption.maxTopK == 200 && SearchType.byClip.maxTopK == 1000)
    }

    @Test("get_audio_transcription: segments with string times; data null")
    func transcript() throws {
        let json = #"""
        {"code":"0000","msg":"success","data":{"transcriptions":[
          {"index":1,"content":"Hello there.","startTime":"0","endTime":"2.5"},
          {"index":"2","content":"Second line","startTime":"3","endTime":"1"},
          "junk"
        ]}}
        """#
        let segments = try #require(try decode(Envelope<Transcript>.self, json).data).segments
        #expect(segments.count == 2)
        #expect(segments[0] == TranscriptSegment(index: 1, content: "Hello there.", startTime: 0, endTime: 2.5))
        #expect(segments[1].index == 2 && segments[1].endTime == 3, "an end before the start is read as the start")
        #expect(try decode(Envelope<Transcript>.self, #"{"code":"0000","data":null}"#).data == nil)
        let round = try JSONDecoder().decode(Transcript.self, from: JSONEncoder().encode(Transcript(segments: segments)))
        #expect(round.segments == segments)
    }

    @Test("search_audio_transcripts: a page with total_count as a string")
    func transcriptMatches() throws {
        let json = #"""
        {"code":"0000","data":{"current_page":1,"page_size":20,"total_count":"3","videos":[
          {"videoNo":"VI1","videoName":"talk","startTime":"12","audio_ts":"12","video_bucket":"b","video_blob":"VI1.mp4"},
          {"videoName":"no id"}
        ]}}
        """#
        let page = try #require(try decode(Envelope<TranscriptMatchPage>.self, json).data)
        #expect(page.currentPage == 1 && page.pageSize == 20 && page.totalCount == 3)
        #expect(page.videos == [TranscriptMatch(videoNo: "VI1", videoName: "talk", startTime: 12, audioTS: "12", videoBucket: "b", videoBlob: "VI1.mp4")])
        let encoded = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(page)) as? [String: Any])
        #expect(encoded["total_count"] as? String == "3")
    }

    @Test("wire seconds", arguments: [(0.0, "0"), (13, "13"), (13.25, "13.25"), (1.0004, "1"), (2.5, "2.5")])
    func wireSeconds(value: Double, text: String) {
        #expect(WireSeconds.text(value) == text)
    }
}

@Suite("SubRip")
struct SubRipTests {
    @Test("formats segments as numbered cues")
    func format() {
        let text = SubRip.format([
            TranscriptSegment(index: 4, content: "Hello there.", startTime: 0, endTime: 2.5),
            TranscriptSegment(index: 9, content: "Two\n\nlines", startTime: 3661.004, endTime: 3662),
        ])
        #expect(text == "1\n00:00:00,000 --> 00:00:02,500\nHello there.\n\n2\n01:01:01,004 --> 01:01:02,000\nTwo\nlines\n\n")
    }

    @Test("parses what ffmpeg writes, and what players accept")
    func parse() {
        let text = "\u{FEFF}1\r\n00:00:01,000 --> 00:00:02,500\r\nfirst line\r\nsecond line\r\n\r\nnot a cue\n\n7\n00:00:03.25 --> 00:00:04,000 X1:0\nthird\n\n\n"
        let cues = SubRip.parse(text)
        #expect(cues == [
            TranscriptSegment(index: 1, content: "first line\nsecond line", startTime: 1, endTime: 2.5),
            TranscriptSegment(index: 2, content: "third", startTime: 3.25, endTime: 4),
        ])
        #expect(SubRip.parse(SubRip.format(cues)) == cues, "format and parse round-trip")
    }
}
