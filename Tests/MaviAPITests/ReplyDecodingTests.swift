import Foundation
import MaviAPI
import Testing

private func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
    try JSONDecoder().decode(type, from: Data(json.utf8))
}

@Suite("Documented reply shapes")
struct ReplyDecodingTests {
    @Test("list_videos with numbers as JSON numbers")
    func listWithNumbers() throws {
        let envelope = try decode(Envelope<VideoPage>.self, RecordedReplies.listNumbers)
        #expect(envelope.isSuccess && envelope.success && !envelope.failed)
        let page = try #require(envelope.data)
        #expect(page.currentPage == 1 && page.pageSize == 20 && page.totalCount == 2)
        #expect(page.videos.count == 2)

        let first = page.videos[0]
        #expect(first.videoNo == "VI606404158946574336")
        #expect(first.videoName == "182082-867762198_tiny")
        #expect(first.duration == 12 && first.size == 3_284_512)
        #expect(first.status == .parsed)
        #expect(first.cause == nil)
        #expect(first.createTime == 1_754_037_217_992 && first.datetimeTaken == 1_729_388_400_000)
        #expect(first.cameraModel == "Canon EOS 5D")
        #expect(first.latitude == 39.9042 && first.longitude == 116.4074)
        #expect(first.tags == ["holiday", "beijing", "api"])
        #expect(first.bucket == "mavi-resource" && first.blob == "VI606404158946574336.mp4")
        #expect(first.videoURL == nil && first.coverURL == nil && first.fps == nil)

        let second = page.videos[1]
        #expect(second.datetimeTaken == nil && second.cameraModel == nil && second.latitude == nil)
        #expect(second.tags.isEmpty)
    }

    @Test("list_videos with numbers as strings, cause \"null\" and null resolution fields")
    func listWithStrings() throws {
        let page = try #require(try decode(Envelope<VideoPage>.self, RecordedReplies.listStrings).data)
        #expect(page.totalCount == 2)
        let video = try #require(page.videos.first)
        #expect(video.duration == 105 && video.size == 7_798_243 && video.createTime == 1_777_047_288_621)
        #expect(video.cause == nil, "the literal string \"null\" means no failure")
        #expect(video.fps == nil && video.width == nil && video.height == nil && video.resolutionLabel == nil)
        #expect(video.videoURL == "https://mavi-resource.openinterx.com/VI9aa17ce1-f278-42b0-aff8-9f7ae3a70775.mp4")
        #expect(video.coverURL?.hasSuffix("frame_0032.jpg") == true)
        #expect(video.tags.last == "api")
    }

    @Test("status spellings", arguments: [
        ("PARSE", VideoStatus.parsed), ("UNPARSE", .unparsed), ("FAIL", .fail),
        ("FAILED", .fail), ("PARSE_ERROR", .fail), ("parse", .parsed), ("SOMETHING_NEW", .fail),
    ])
    func statusSpellings(spelling: String, expected: VideoStatus) throws {
        let video = try decode(Video.self, #"{"video_no":"VI1","status":"\#(spelling)","cause":"decode error"}"#)
        #expect(video.status == expected)
        #expect(video.status.isFailed == expected.isFailed)
        if expected.isFailed, case .failed(let raw) = video.status { #expect(raw == spelling) }
    }

    @Test("a missing status reads as still processing, never as ready")
    func missingStatus() throws {
        let video = try decode(Video.self, #"{"video_no":"VI1"}"#)
        #expect(video.status == .unparsed)
        #expect(video.videoName == "VI1", "a missing name falls back to the id")
    }

    @Test("numbers in every documented form", arguments: [
        (#""105""#, Int64(105)), ("105", 105), ("105.0", 105), (#""105.0""#, 105), (#"" 105 ""#, 105),
    ])
    func lenientNumbers(json: String, expected: Int64) throws {
        let video = try decode(Video.self, #"{"video_no":"VI1","duration":\#(json),"size":\#(json)}"#)
        #expect(video.duration == expected && video.size == expected)
    }

    @Test("absent, null, \"null\", empty and non-numeric values read as nothing", arguments: [
        "null", #""null""#, #""""#, #""abc""#, "true", "{}",
    ])
    func missingNumbers(json: String) throws {
        let video = try decode(Video.self, #"{"video_no":"VI1","duration":\#(json),"fps":\#(json),"latitude":\#(json),"cause":"null"}"#)
        #expect(video.duration == nil && video.fps == nil && video.latitude == nil && video.cause == nil)
    }

    @Test("coordinates and fps as strings")
    func stringDoubles() throws {
        let video = try decode(Video.self, #"{"video_no":"VI1","latitude":"39.9042","longitude":"-116.5","fps":"29.97","width":"1920"}"#)
        #expect(video.latitude == 39.9042 && video.longitude == -116.5 && video.fps == 29.97 && video.width == 1920)
    }

    @Test("tags as null, a single string, or with null items")
    func lenientTags() throws {
        #expect(try decode(Video.self, #"{"video_no":"VI1","tags":null}"#).tags == [])
        #expect(try decode(Video.self, #"{"video_no":"VI1","tags":"cat"}"#).tags == ["cat"])
        #expect(try decode(Video.self, #"{"video_no":"VI1","tags":["cat",null,"api"]}"#).tags == ["cat", "api"])
    }

    @Test("unknown extra fields are ignored")
    func extraFields() throws {
        let json = #"{"code":"0000","msg":"success","traceId":"x","data":{"current_page":1,"page_size":1,"total_count":"1","next":null,"videos":[{"video_no":"VI1","status":"PARSE","embedding":[0.1,0.2],"owner":{"id":3}}]},"success":true,"failed":false}"#
        let page = try #require(try decode(Envelope<VideoPage>.self, json).data)
        #expect(page.videos.map(\.videoNo) == ["VI1"])
    }

    @Test("a page without total_count counts its own videos")
    func pageWithoutTotal() throws {
        let page = try decode(VideoPage.self, #"{"videos":[{"video_no":"VI1"},{"video_no":"VI2"}]}"#)
        #expect(page.totalCount == 2 && page.currentPage == 1)
    }

    @Test("a video without video_no is a decoding error, not a crash")
    func videoWithoutNumber() {
        #expect(throws: DecodingError.self) { try decode(Video.self, #"{"video_name":"x"}"#) }
        #expect(throws: DecodingError.self) { try decode(Video.self, #"{"video_no":""}"#) }
    }

    @Test("bad JSON and wrong envelopes are errors")
    func badJSON() {
        #expect(throws: DecodingError.self) { try decode(Envelope<VideoPage>.self, "{\"code\": \"0000\", ") }
        #expect(throws: DecodingError.self) { try decode(Envelope<VideoPage>.self, "<html><body>502 Bad Gateway</body></html>") }
        #expect(throws: DecodingError.self) { try decode(Envelope<EmptyPayload>.self, RecordedReplies.infrastructure) }
        #expect(throws: DecodingError.self) { try decode(Envelope<VideoPage>.self, #"{"code":"0000","data":{"videos":"none"}}"#) }
    }

    @Test("delete replies: data as {} or null, and both documented refusals")
    func deleteReplies() throws {
        for body in [RecordedReplies.deleteSuccessEmptyObject, RecordedReplies.deleteSuccessNull, RecordedReplies.legacyDelete] {
            let envelope = try decode(Envelope<EmptyPayload>.self, body)
            #expect(envelope.isSuccess && envelope.success && !envelope.failed)
        }
        for (body, message) in [(RecordedReplies.deleteEmpty, APIMessage.deleteEmpty), (RecordedReplies.deleteTooMany, APIMessage.deleteTooMany)] {
            let envelope = try decode(Envelope<EmptyPayload>.self, body)
            #expect(envelope.code == APICode.invalidParameter.rawValue && envelope.msg == message)
            #expect(!envelope.isSuccess && !envelope.success && envelope.failed)
        }
    }

    @Test("download refusals carry their code and message")
    func downloadRefusals() throws {
        let unknown = try decode(Envelope<EmptyPayload>.self, RecordedReplies.downloadUnknown)
        #expect(unknown.code == "0001" && unknown.msg == APIMessage.downloadFailed && unknown.data == nil)
        let missing = try decode(Envelope<EmptyPayload>.self, RecordedReplies.downloadMissingNo)
        #expect(missing.msg == APIMessage.videoNoEmpty)
    }

    @Test("error codes of the envelope", arguments: [
        (RecordedReplies.rateLimited, APICode.rateLimited, APIMessage.rateLimited),
        (RecordedReplies.networkAbnormal, .invalidParameter, APIMessage.networkAbnormal),
        (RecordedReplies.unauthorized, .unauthorized, APIMessage.unauthorized),
    ])
    func errorCodes(body: String, code: APICode, message: String) throws {
        let envelope = try decode(Envelope<VideoPage>.self, body)
        #expect(APICode(rawValue: envelope.code) == code && envelope.msg == message && envelope.data == nil)
    }

    @Test("every documented code is known", arguments: ["0000", "0001", "0003", "0401", "0402", "0403", "0409", "0429", "9009"])
    func knownCodes(code: String) {
        #expect(APICode(rawValue: code) != nil)
    }

    @Test("a numeric code is read as its four-digit string", arguments: [(0, "0000"), (1, "0001"), (401, "0401"), (9009, "9009")])
    func numericCode(number: Int, expected: String) throws {
        let envelope = try decode(Envelope<EmptyPayload>.self, #"{"code":\#(number),"msg":"m"}"#)
        #expect(envelope.code == expected)
    }

    @Test("success and failed default from the code when absent")
    func defaultFlags() throws {
        let ok = try decode(Envelope<EmptyPayload>.self, #"{"code":"0000"}"#)
        #expect(ok.success && !ok.failed && ok.msg == "")
        let refused = try decode(Envelope<EmptyPayload>.self, #"{"code":"0429"}"#)
        #expect(!refused.success && refused.failed)
    }

    @Test("upload reply in camelCase with the time as a string")
    func uploadReply() throws {
        let reply = try #require(try decode(Envelope<UploadReply>.self, RecordedReplies.upload).data)
        #expect(reply.videoNo == "VI625239098370850816" && reply.videoName == "holiday.mp4")
        #expect(reply.videoStatus == .unparsed && reply.uploadTime == 1_744_905_509_814)
        let numeric = try decode(UploadReply.self, #"{"videoNo":"VI1","uploadTime":1744905509814}"#)
        #expect(numeric.uploadTime == 1_744_905_509_814 && numeric.videoName == "VI1" && numeric.videoStatus == .unparsed)
        #expect(throws: DecodingError.self) { try decode(UploadReply.self, #"{"video_no":"VI1"}"#) }
    }

    @Test("get_metadata with resolution fields, and data null for an unknown id")
    func metadata() throws {
        let video = try #require(try decode(Envelope<Video>.self, RecordedReplies.metadata).data)
        #expect(video.fps == 29.97 && video.width == 1920 && video.height == 1080 && video.resolutionLabel == "1080p")
        #expect(video.duration == 30 && video.size == 1024)
        let unknown = try decode(Envelope<Video>.self, RecordedReplies.metadataUnknown)
        #expect(unknown.isSuccess && unknown.data == nil)
    }

    @Test("infrastructure error body")
    func infrastructureBody() throws {
        let body = try decode(InfrastructureErrorBody.self, RecordedReplies.infrastructure)
        #expect(body.status == 503 && body.error == "Service Unavailable" && body.requestId == "a1b2c3")
        #expect(body.path == APIPath.listVideos)
    }

    @Test("processing callback")
    func processingCallback() throws {
        let callback = try decode(ProcessingCallback.self, RecordedReplies.callback)
        #expect(callback.videoNo == "VI625239098370850816" && callback.status == .parsed)
    }

    @Test("a video survives encoding and decoding, and is encoded as the live service writes it")
    func videoRoundTrip() throws {
        let page = try #require(try decode(Envelope<VideoPage>.self, RecordedReplies.listStrings).data)
        let encoded = try JSONEncoder().encode(Envelope.ok(page))
        let decoded = try #require(try JSONDecoder().decode(Envelope<VideoPage>.self, from: encoded).data)
        #expect(decoded == page)
        let text = String(decoding: encoded, as: UTF8.self)
        #expect(text.contains(#""total_count":"2""#) && text.contains(#""cause":"null""#) && text.contains(#""fps":null"#))
    }

    @Test("list request omits absent filters and uses snake_case")
    func listRequestEncoding() throws {
        let request = ListVideosRequest(page: 2, size: 50, uniqueID: "default", status: "FAIL", datetimeTaken: 1_729_388_400_000, latitude: 39.9, longitude: 116.4)
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(request)) as? [String: Any])
        #expect(Set(object.keys) == ["page", "size", "unique_id", "status", "datetime_taken", "latitude", "longitude"])
        #expect((object["datetime_taken"] as? NSNumber)?.int64Value == 1_729_388_400_000)
    }
}
