import Foundation

/// One timed line of a transcript or a caption track.
public struct TranscriptSegment: Sendable, Equatable {
    public var index: Int
    public var content: String
    /// Seconds (strings of seconds on the wire).
    public var startTime: Double
    public var endTime: Double

    public init(index: Int, content: String, startTime: Double, endTime: Double) {
        self.index = index
        self.content = content
        self.startTime = startTime
        self.endTime = endTime
    }

    enum CodingKeys: String, CodingKey { case index, content, startTime, endTime, text, startSnake = "start_time", endSnake = "end_time" }
}

extension TranscriptSegment: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        index = c.lenientInt(.index) ?? 0
        content = c.lenientString(.content) ?? c.lenientString(.text) ?? ""
        startTime = max(0, c.lenientDouble(.startTime) ?? c.lenientDouble(.startSnake) ?? 0)
        // A segment without an end (or ending before it starts) is read as an instant.
        endTime = max(startTime, c.lenientDouble(.endTime) ?? c.lenientDouble(.endSnake) ?? startTime)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encode(content, forKey: .content)
        try c.encode(WireSeconds.text(startTime), forKey: .startTime)
        try c.encode(WireSeconds.text(endTime), forKey: .endTime)
    }
}

/// The `data` of `get_audio_transcription` and `get_video_caption`. The reply's `data` is `null`
/// when the video has no such track (no audio, not processed yet).
public struct Transcript: Sendable, Equatable {
    public var segments: [TranscriptSegment]

    public init(segments: [TranscriptSegment]) { self.segments = segments }

    enum CodingKeys: String, CodingKey { case transcriptions, captions }
}

extension Transcript: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        for key in [CodingKeys.transcriptions, .captions] {
            if var list = try? c.nestedUnkeyedContainer(forKey: key) {
                segments = LenientList.decode(TranscriptSegment.self, from: &list)
                return
            }
        }
        segments = []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(segments, forKey: .transcriptions)
    }
}

/// One video whose transcript holds the phrase, as `search_audio_transcripts` lists it (no end time).
public struct TranscriptMatch: Sendable, Equatable {
    public var videoNo: String
    public var videoName: String
    public var startTime: Double
    public var audioTS: String?
    public var videoBucket: String?
    public var videoBlob: String?

    public init(videoNo: String, videoName: String, startTime: Double, audioTS: String? = nil, videoBucket: String? = nil, videoBlob: String? = nil) {
        self.videoNo = videoNo
        self.videoName = videoName
        self.startTime = startTime
        self.audioTS = audioTS
        self.videoBucket = videoBucket
        self.videoBlob = videoBlob
    }

    enum CodingKeys: String, CodingKey {
        case videoNo, videoName, startTime, audioTS = "audio_ts", videoBucket = "video_bucket", videoBlob = "video_blob"
        case videoNoSnake = "video_no", videoNameSnake = "video_name", startSnake = "start_time"
    }
}

extension TranscriptMatch: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let no = c.lenientString(.videoNo) ?? c.lenientString(.videoNoSnake), !no.isEmpty else {
            throw DecodingError.keyNotFound(CodingKeys.videoNo, .init(codingPath: c.codingPath, debugDescription: "transcript match has no videoNo"))
        }
        videoNo = no
        videoName = c.lenientString(.videoName) ?? c.lenientString(.videoNameSnake) ?? no
        startTime = max(0, c.lenientDouble(.startTime) ?? c.lenientDouble(.startSnake) ?? 0)
        audioTS = c.lenientString(.audioTS)
        videoBucket = c.lenientString(.videoBucket)
        videoBlob = c.lenientString(.videoBlob)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(videoNo, forKey: .videoNo)
        try c.encode(videoName, forKey: .videoName)
        try c.encode(WireSeconds.text(startTime), forKey: .startTime)
        try c.encode(audioTS, forKey: .audioTS)
        try c.encode(videoBucket, forKey: .videoBucket)
        try c.encode(videoBlob, forKey: .videoBlob)
    }
}

/// The `data` of `search_audio_transcripts`: one page of matches.
public typealias TranscriptMatchPage = Page<TranscriptMatch>

extension TranscriptMatch: PageItem {
    /// A match that cannot be read costs that match: the others are still found.
    public static let badItemFailsPage = false
}

/// Times on the wire are strings of seconds: whole seconds without a fraction ("13"), others with
/// up to three decimals ("13.25").
public enum WireSeconds {
    public static func text(_ seconds: Double) -> String {
        let ms = (max(0, seconds) * 1000).rounded()
        if ms.truncatingRemainder(dividingBy: 1000) == 0 { return String(Int64(ms / 1000)) }
        var s = String(format: "%.3f", ms / 1000)
        while s.hasSuffix("0") { s.removeLast() }
        return s
    }
}

/// Lists where one bad item should cost that item, not the whole reply.
enum LenientList {
    /// Decodes from anything without looking at it, so a bad item can be stepped over.
    private struct Skip: Decodable {
        init(from decoder: any Decoder) throws {}
    }

    static func decode<T: Decodable>(_ type: T.Type, from list: inout any UnkeyedDecodingContainer) -> [T] {
        var out: [T] = []
        while !list.isAtEnd {
            if let item = try? list.decode(T.self) {
                out.append(item)
            } else if (try? list.decode(Skip.self)) == nil {
                break
            }
        }
        return out
    }
}
