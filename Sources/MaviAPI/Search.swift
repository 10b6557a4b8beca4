import Foundation

/// What `POST /serve/api/v1/search` looks in. `BY_VIDEO` is the service's alias of `BY_CLIP`.
public enum SearchType: String, Codable, Sendable, CaseIterable {
    case byClip = "BY_CLIP"
    case byVideo = "BY_VIDEO"
    case byAudio = "BY_AUDIO"
    case byCaption = "BY_CAPTION"
    case byImage = "BY_IMAGE"

    /// The largest `top_k` the service accepts for this type.
    public var maxTopK: Int { self == .byCaption ? APILimits.maxCaptionSearchTopK : APILimits.maxSearchTopK }
}

/// `filtering_level`: the lowest score a hit must reach. Omitted, every hit is returned.
public enum FilteringLevel: String, Codable, Sendable, CaseIterable {
    case low, medium, high

    public var minimumScore: Double {
        switch self {
        case .low: 0.15
        case .medium: 0.225
        case .high: 0.4
        }
    }
}

/// The body of `POST /serve/api/v1/search`. Absent filters are omitted from the JSON.
public struct SearchRequest: Codable, Sendable, Equatable {
    public var searchParam: String?
    /// Kept as the wire text so that a server can report an unknown type instead of failing to decode.
    public var searchType: String?
    public var uniqueID: String?
    public var topK: Int?
    public var filteringLevel: String?
    public var videoNos: [String]?
    public var tag: String?
    public var cameraTag: String?
    /// At or after, milliseconds since the epoch.
    public var datetimeTaken: Int64?
    public var latitude: Double?
    public var longitude: Double?

    public init(
        searchParam: String?, searchType: SearchType? = .byClip, uniqueID: String? = nil, topK: Int? = nil,
        filteringLevel: FilteringLevel? = nil, videoNos: [String]? = nil, tag: String? = nil, cameraTag: String? = nil,
        datetimeTaken: Int64? = nil, latitude: Double? = nil, longitude: Double? = nil
    ) {
        self.searchParam = searchParam
        self.searchType = searchType?.rawValue
        self.uniqueID = uniqueID
        self.topK = topK
        self.filteringLevel = filteringLevel?.rawValue
        self.videoNos = videoNos
        self.tag = tag
        self.cameraTag = cameraTag
        self.datetimeTaken = datetimeTaken
        self.latitude = latitude
        self.longitude = longitude
    }

    enum CodingKeys: String, CodingKey {
        case searchParam = "search_param", searchType = "search_type", uniqueID = "unique_id", topK = "top_k"
        case filteringLevel = "filtering_level", videoNos = "video_nos", tag, cameraTag = "camera_tag"
        case datetimeTaken = "datetime_taken", latitude, longitude
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        searchParam = c.lenientString(.searchParam)
        searchType = c.lenientString(.searchType)
        uniqueID = c.lenientString(.uniqueID)
        topK = c.lenientInt(.topK)
        filteringLevel = c.lenientString(.filteringLevel)
        videoNos = c.contains(.videoNos) ? c.lenientStrings(.videoNos) : nil
        tag = c.lenientString(.tag)
        cameraTag = c.lenientString(.cameraTag)
        datetimeTaken = c.lenientInt64(.datetimeTaken)
        latitude = c.lenientDouble(.latitude)
        longitude = c.lenientDouble(.longitude)
    }
}

/// One clip found by `search`: a stretch of one video and how well it matched.
public struct SearchHit: Sendable, Equatable {
    public var videoNo: String
    public var videoName: String
    /// Seconds from the start of the video (a string of seconds on the wire).
    public var startTime: Double
    public var endTime: Double?
    public var audioTS: String?
    /// 0…1, higher is better.
    public var score: Double
    public var videoBucket: String?
    public var videoBlob: String?
    public var keyframeBucket: String?
    public var keyframeBlob: String?

    public init(
        videoNo: String, videoName: String, startTime: Double, endTime: Double?, audioTS: String? = nil, score: Double,
        videoBucket: String? = nil, videoBlob: String? = nil, keyframeBucket: String? = nil, keyframeBlob: String? = nil
    ) {
        self.videoNo = videoNo
        self.videoName = videoName
        self.startTime = startTime
        self.endTime = endTime
        self.audioTS = audioTS
        self.score = score
        self.videoBucket = videoBucket
        self.videoBlob = videoBlob
        self.keyframeBucket = keyframeBucket
        self.keyframeBlob = keyframeBlob
    }

    enum CodingKeys: String, CodingKey {
        case videoNo, videoName, startTime, endTime, audioTS = "audio_ts", score
        case videoBucket = "video_bucket", videoBlob = "video_blob", keyframeBucket = "keyframe_bucket", keyframeBlob = "keyframe_blob"
        // snake_case spellings some replies use for the same fields.
        case videoNoSnake = "video_no", videoNameSnake = "video_name", startTimeSnake = "start_time", endTimeSnake = "end_time"
    }
}

extension SearchHit: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let no = c.lenientString(.videoNo) ?? c.lenientString(.videoNoSnake), !no.isEmpty else {
            throw DecodingError.keyNotFound(CodingKeys.videoNo, .init(codingPath: c.codingPath, debugDescription: "search hit has no videoNo"))
        }
        videoNo = no
        videoName = c.lenientString(.videoName) ?? c.lenientString(.videoNameSnake) ?? no
        startTime = max(0, c.lenientDouble(.startTime) ?? c.lenientDouble(.startTimeSnake) ?? 0)
        endTime = (c.lenientDouble(.endTime) ?? c.lenientDouble(.endTimeSnake)).map { max(0, $0) }
        audioTS = c.lenientString(.audioTS)
        score = min(1, max(0, c.lenientDouble(.score) ?? 0))
        videoBucket = c.lenientString(.videoBucket)
        videoBlob = c.lenientString(.videoBlob)
        keyframeBucket = c.lenientString(.keyframeBucket)
        keyframeBlob = c.lenientString(.keyframeBlob)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(videoNo, forKey: .videoNo)
        try c.encode(videoName, forKey: .videoName)
        try c.encode(WireSeconds.text(startTime), forKey: .startTime)
        try c.encodeIfPresent(endTime.map(WireSeconds.text), forKey: .endTime)
        try c.encode(audioTS, forKey: .audioTS)
        try c.encode(score, forKey: .score)
        try c.encode(videoBucket, forKey: .videoBucket)
        try c.encode(videoBlob, forKey: .videoBlob)
        try c.encode(keyframeBucket, forKey: .keyframeBucket)
        try c.encode(keyframeBlob, forKey: .keyframeBlob)
    }
}

/// The `data` of a `search` reply: a flat list of clip hits. An item that is not a hit (no id, not an
/// object) is skipped rather than failing the whole reply, and an object in place of the list (the
/// `BY_IMAGE` shape, `{"item": [...]}`) is read through its list.
public struct SearchHits: Sendable, Equatable {
    public var hits: [SearchHit]

    public init(_ hits: [SearchHit]) { self.hits = hits }
}

extension SearchHits: Codable {
    private enum WrapperKeys: String, CodingKey { case item, items, list, data }

    public init(from decoder: any Decoder) throws {
        if var list = try? decoder.unkeyedContainer() {
            hits = LenientList.decode(SearchHit.self, from: &list)
            return
        }
        let c = try decoder.container(keyedBy: WrapperKeys.self)
        for key in [WrapperKeys.item, .items, .list, .data] {
            if var list = try? c.nestedUnkeyedContainer(forKey: key) {
                hits = LenientList.decode(SearchHit.self, from: &list)
                return
            }
        }
        hits = []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(hits)
    }
}
