import Foundation
import MaviAPI
import Testing
import TestSupport

/// Every reply decoder takes malformed, truncated, huge and hostile JSON without crashing: it
/// decodes or throws, and what it decodes keeps the model's promises.
@Suite("Reply decoders under fuzzing")
struct DecoderFuzzTests {
    static let samples = [
        RecordedReplies.listNumbers, RecordedReplies.listStrings, RecordedReplies.metadata, RecordedReplies.upload,
        RecordedReplies.deleteSuccessEmptyObject, RecordedReplies.infrastructure, RecordedReplies.callback, RecordedReplies.rateLimited,
    ].map { Array($0.utf8) }

    static let cases = Soak.scale(ci: 6_000, soak: 200_000)

    /// Decodes `bytes` as every reply type; returns how many decodes succeeded.
    static func decodeEverything(_ bytes: [UInt8]) -> Int {
        let data = Data(bytes)
        let decoder = JSONDecoder()
        var decoded = 0
        if let page = try? decoder.decode(Envelope<VideoPage>.self, from: data) {
            decoded += 1
            check(page)
        }
        if let video = try? decoder.decode(Envelope<Video>.self, from: data) {
            decoded += 1
            if let v = video.data { check(v) }
        }
        if (try? decoder.decode(Envelope<UploadReply>.self, from: data)) != nil { decoded += 1 }
        if (try? decoder.decode(Envelope<EmptyPayload>.self, from: data)) != nil { decoded += 1 }
        if (try? decoder.decode(InfrastructureErrorBody.self, from: data)) != nil { decoded += 1 }
        if (try? decoder.decode(ProcessingCallback.self, from: data)) != nil { decoded += 1 }
        return decoded
    }

    static func check(_ envelope: Envelope<VideoPage>) {
        guard let page = envelope.data else { return }
        for video in page.videos { check(video) }
    }

    /// What the rest of mavifs relies on: a video always has a number; a status is one of three.
    static func check(_ video: Video) {
        #expect(!video.videoNo.isEmpty, "a decoded video has a number")
        switch video.status {
        case .parsed, .unparsed, .failed: break
        }
    }

    @Test("random replies built from hostile pieces")
    func generated() {
        var input = HostileInput(seed: 0x5EED_0001)
        var decoded = 0
        for _ in 0..<Self.cases {
            decoded += Self.decodeEverything(Array(input.envelope().utf8))
        }
        reportFigure("decoder fuzz", "\(Self.cases) generated replies, \(decoded) successful decodes over 6 types")
        #expect(decoded > 0, "the generator produces decodable replies too, so the checks on decoded values run")
    }

    @Test("recorded replies damaged byte by byte: flipped, cut, invalid UTF-8, deep nesting, huge numbers")
    func mutated() {
        var input = HostileInput(seed: 0x5EED_0002)
        var decoded = 0
        for i in 0..<Self.cases {
            decoded += Self.decodeEverything(input.mutate(Self.samples[i % Self.samples.count]))
        }
        reportFigure("decoder fuzz", "\(Self.cases) mutated replies, \(decoded) successful decodes over 6 types")
        #expect(decoded > 0)
    }

    @Test("every truncation of every recorded reply")
    func truncations() {
        var count = 0
        for sample in Self.samples {
            for length in 0..<sample.count {
                _ = Self.decodeEverything(Array(sample.prefix(length)))
                count += 1
            }
        }
        reportFigure("decoder fuzz", "\(count) truncations")
        #expect(count > 1000)
    }

    @Test("huge replies: a 10 MB string, 20,000 videos, nesting 100,000 deep")
    func huge() throws {
        let name = String(repeating: "n", count: 10 << 20)
        let bigName = #"{"code":"0000","msg":"","data":{"video_no":"VI1","video_name":"\#(name)","status":"PARSE"}}"#
        let video = try JSONDecoder().decode(Envelope<Video>.self, from: Data(bigName.utf8))
        #expect(video.data?.videoName.utf8.count == 10 << 20)

        let item = #"{"video_no":"VI1","status":"PARSE","size":"-5","duration":"1e400","create_time":"99999999999999999999"}"#
        let many = #"{"code":"0000","msg":"","data":{"total_count":"9999999999999999999999","videos":["# + Array(repeating: item, count: 20_000).joined(separator: ",") + "]}}"
        let page = try #require(try JSONDecoder().decode(Envelope<VideoPage>.self, from: Data(many.utf8)).data)
        #expect(page.videos.count == 20_000)
        #expect(page.videos[0].size == -5 && page.videos[0].duration == nil && page.videos[0].createTime == nil)
        #expect(page.totalCount == 20_000, "an unreadable count falls back on the videos present")

        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: (any Error).self) { try JSONDecoder().decode(Envelope<VideoPage>.self, from: Data(deep.utf8)) }
        let deepData = #"{"code":"0000","data":"# + deep + "}"
        #expect(throws: (any Error).self) { try JSONDecoder().decode(Envelope<VideoPage>.self, from: Data(deepData.utf8)) }
    }

    @Test("a name with invalid UTF-8 is read as absent")
    func invalidUTF8() throws {
        for bad: [UInt8] in [[0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80]] {
            let bytes = Array(#"{"code":"0000","data":{"video_no":"VI1","video_name":"a"#.utf8) + bad + Array(#"b","status":"PARSE"}}"#.utf8)
            // The string is unreadable, so the field counts as absent: the name falls back on the
            // number, as for a missing name.
            let video = try #require(try JSONDecoder().decode(Envelope<Video>.self, from: Data(bytes)).data)
            #expect(video.videoName == "VI1", "\(bad)")
        }
    }
}
