/// The body of `POST /serve/api/v1/list_videos`. Absent filters are omitted from the JSON.
public struct ListVideosRequest: Codable, Sendable, Equatable {
    public var page: Int?
    public var size: Int?
    public var uniqueID: String?
    public var videoName: String?
    public var videoNo: String?
    public var videoNos: [String]?
    /// One of `PARSE`, `UNPARSE`, `FAIL` (the live enum).
    public var status: String?
    public var cameraModel: String?
    public var tag: String?
    /// Minimum capture time, milliseconds since the epoch.
    public var datetimeTaken: Int64?
    public var latitude: Double?
    public var longitude: Double?

    public init(
        page: Int? = nil, size: Int? = nil, uniqueID: String? = nil, videoName: String? = nil,
        videoNo: String? = nil, videoNos: [String]? = nil, status: String? = nil, cameraModel: String? = nil,
        tag: String? = nil, datetimeTaken: Int64? = nil, latitude: Double? = nil, longitude: Double? = nil
    ) {
        self.page = page
        self.size = size
        self.uniqueID = uniqueID
        self.videoName = videoName
        self.videoNo = videoNo
        self.videoNos = videoNos
        self.status = status
        self.cameraModel = cameraModel
        self.tag = tag
        self.datetimeTaken = datetimeTaken
        self.latitude = latitude
        self.longitude = longitude
    }

    enum CodingKeys: String, CodingKey {
        case page, size, uniqueID = "unique_id", videoName = "video_name", videoNo = "video_no"
        case videoNos = "video_nos", status, cameraModel = "camera_model", tag
        case datetimeTaken = "datetime_taken", latitude, longitude
    }
}

/// The body of `POST /serve/api/v1/download`.
public struct DownloadRequest: Codable, Sendable, Equatable {
    public var videoNo: String?
    public var uniqueID: String?

    public init(videoNo: String?, uniqueID: String? = nil) {
        self.videoNo = videoNo
        self.uniqueID = uniqueID
    }

    enum CodingKeys: String, CodingKey { case videoNo = "video_no", uniqueID = "unique_id" }
}

/// The `data` of an upload reply. Unlike every other reply it is camelCase.
public struct UploadReply: Codable, Sendable, Equatable {
    public var videoNo: String
    public var videoName: String
    public var videoStatus: VideoStatus
    /// Milliseconds since the epoch (a string on the wire).
    public var uploadTime: Int64?

    public init(videoNo: String, videoName: String, videoStatus: VideoStatus, uploadTime: Int64?) {
        self.videoNo = videoNo
        self.videoName = videoName
        self.videoStatus = videoStatus
        self.uploadTime = uploadTime
    }

    enum CodingKeys: String, CodingKey { case videoNo, videoName, videoStatus, uploadTime }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let no = c.lenientString(.videoNo) else {
            throw DecodingError.keyNotFound(CodingKeys.videoNo, .init(codingPath: c.codingPath, debugDescription: "upload reply has no videoNo"))
        }
        videoNo = no
        videoName = c.lenientString(.videoName) ?? no
        videoStatus = c.lenientString(.videoStatus).map(VideoStatus.init(wireValue:)) ?? .unparsed
        uploadTime = c.lenientInt64(.uploadTime)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(videoNo, forKey: .videoNo)
        try c.encode(videoName, forKey: .videoName)
        try c.encode(videoStatus, forKey: .videoStatus)
        try c.encodeIfPresent(uploadTime.map(String.init), forKey: .uploadTime)
    }
}

/// What the service POSTs to an upload's `callback` URL when processing ends.
public struct ProcessingCallback: Codable, Sendable, Equatable {
    public var videoNo: String
    public var status: VideoStatus

    public init(videoNo: String, status: VideoStatus) {
        self.videoNo = videoNo
        self.status = status
    }
}

/// Documented limits of the API, shared by the server (to enforce) and the client (to respect).
public enum APILimits {
    public static let maxDeleteBatch = 100
    public static let maxLegacyDeleteBatch = 500
    public static let maxUploadBytes: Int64 = 3_000_000_000
    public static let maxUploadTags = 20
    public static let maxCameraModelLength = 200
    public static let maxCallbackLength = 299
    public static let uploadExtensions = ["mp4", "avi", "mkv", "mov"]
    public static let defaultNamespace = "default"
    public static let defaultPageSize = 200
    /// The page size for reading a whole listing. No maximum is documented; a service that refuses
    /// it is asked again at `defaultPageSize`.
    public static let largeListPageSize = 1000
    /// Radius of the latitude/longitude filter, in metres.
    public static let geoRadiusMeters = 20_000.0
    /// Upload field format for `datetime_taken`.
    public static let uploadDateFormat = "yyyy-MM-dd HH:mm:ss"
    /// `top_k` of `search`: 1…1000, 1…200 for `BY_CAPTION`.
    public static let maxSearchTopK = 1000
    public static let maxCaptionSearchTopK = 200
    /// At most this many `video_nos` in one search.
    public static let maxSearchVideoNos = 100
    /// `page_size` of `search_audio_transcripts`: 1…500.
    public static let maxTranscriptPageSize = 500
}

/// Documented per-account rate limits, in requests per period.
public struct RateLimit: Sendable, Equatable {
    public var requests: Int
    public var perSeconds: Double

    public init(requests: Int, perSeconds: Double) {
        self.requests = requests
        self.perSeconds = perSeconds
    }

    public static let listVideos = RateLimit(requests: 5, perSeconds: 1)
    public static let deleteVideos = RateLimit(requests: 5, perSeconds: 1)
    public static let download = RateLimit(requests: 12, perSeconds: 60)
    public static let upload = RateLimit(requests: 1, perSeconds: 60)
    public static let search = RateLimit(requests: 1, perSeconds: 1)
    /// `get_audio_transcription`, `get_video_caption` and `search_audio_transcripts`.
    public static let transcription = RateLimit(requests: 1, perSeconds: 1)
}

/// Paths of the endpoints, relative to the host.
public enum APIPath {
    public static let base = "/serve/api/v1"
    public static let listVideos = "/serve/api/v1/list_videos"
    public static let download = "/serve/api/v1/download"
    public static let downloadV2 = "/serve/api/v2/download"
    public static let deleteVideos = "/serve/api/v1/delete_videos"
    public static let getMetadata = "/serve/api/v1/get_metadata"
    public static let upload = "/serve/api/v1/upload"
    public static let uploadURL = "/serve/api/v1/upload_url"
    public static let search = "/serve/api/v1/search"
    public static let searchAudioTranscripts = "/serve/api/v1/search_audio_transcripts"
    public static let getAudioTranscription = "/serve/api/v1/get_audio_transcription"
    public static let getVideoCaption = "/serve/api/v1/get_video_caption"
    public static let legacyDelete = "/api/serve/video/delete"
}
