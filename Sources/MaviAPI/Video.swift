import Foundation

/// One video as `list_videos` and `get_metadata` describe it.
///
/// Decoding is lenient (numbers or digit strings, `null`, `cause: "null"`, unknown status spellings,
/// extra fields). Encoding writes what the live service writes: integer fields as strings of
/// digits, `cause` as `"null"` when there is no failure, and `null` for unknown fps/width/height.
public struct Video: Sendable, Equatable {
    public var videoNo: String
    public var videoName: String
    /// Seconds.
    public var duration: Int64?
    /// Bytes.
    public var size: Int64?
    public var status: VideoStatus
    /// Failure reason; `nil` when the service says `"null"`.
    public var cause: String?
    /// Upload time, milliseconds since the epoch.
    public var createTime: Int64?
    /// Capture time, milliseconds since the epoch.
    public var datetimeTaken: Int64?
    public var cameraModel: String?
    public var latitude: Double?
    public var longitude: Double?
    public var tags: [String]
    public var videoURL: String?
    public var coverURL: String?
    public var bucket: String?
    public var blob: String?
    public var fps: Double?
    public var width: Int?
    public var height: Int?
    public var resolutionLabel: String?

    public init(
        videoNo: String, videoName: String, duration: Int64? = nil, size: Int64? = nil,
        status: VideoStatus, cause: String? = nil, createTime: Int64? = nil, datetimeTaken: Int64? = nil,
        cameraModel: String? = nil, latitude: Double? = nil, longitude: Double? = nil, tags: [String] = [],
        videoURL: String? = nil, coverURL: String? = nil, bucket: String? = nil, blob: String? = nil,
        fps: Double? = nil, width: Int? = nil, height: Int? = nil, resolutionLabel: String? = nil
    ) {
        self.videoNo = videoNo
        self.videoName = videoName
        self.duration = duration
        self.size = size
        self.status = status
        self.cause = cause
        self.createTime = createTime
        self.datetimeTaken = datetimeTaken
        self.cameraModel = cameraModel
        self.latitude = latitude
        self.longitude = longitude
        self.tags = tags
        self.videoURL = videoURL
        self.coverURL = coverURL
        self.bucket = bucket
        self.blob = blob
        self.fps = fps
        self.width = width
        self.height = height
        self.resolutionLabel = resolutionLabel
    }

    enum CodingKeys: String, CodingKey {
        case videoNo = "video_no", videoName = "video_name", duration, size, status, cause
        case createTime = "create_time", datetimeTaken = "datetime_taken", cameraModel = "camera_model"
        case latitude, longitude, tags
        case videoURL = "video_url", coverURL = "cover_url", bucket, blob, fps, width, height
        case resolutionLabel = "resolution_label"
    }
}

extension Video: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let no = c.lenientString(.videoNo), !no.isEmpty else {
            throw DecodingError.keyNotFound(CodingKeys.videoNo, .init(codingPath: c.codingPath, debugDescription: "video item has no video_no"))
        }
        videoNo = no
        videoName = c.lenientString(.videoName) ?? no
        duration = c.lenientInt64(.duration)
        size = c.lenientInt64(.size)
        status = c.lenientString(.status).map(VideoStatus.init(wireValue:)) ?? .unparsed
        cause = c.lenientString(.cause)
        createTime = c.lenientInt64(.createTime)
        datetimeTaken = c.lenientInt64(.datetimeTaken)
        cameraModel = c.lenientString(.cameraModel)
        latitude = c.lenientDouble(.latitude)
        longitude = c.lenientDouble(.longitude)
        tags = c.lenientStrings(.tags)
        videoURL = c.lenientString(.videoURL)
        coverURL = c.lenientString(.coverURL)
        bucket = c.lenientString(.bucket)
        blob = c.lenientString(.blob)
        fps = c.lenientDouble(.fps)
        width = c.lenientInt(.width)
        height = c.lenientInt(.height)
        resolutionLabel = c.lenientString(.resolutionLabel)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(videoNo, forKey: .videoNo)
        try c.encode(videoName, forKey: .videoName)
        try c.encodeIfPresent(duration.map(String.init), forKey: .duration)
        try c.encodeIfPresent(size.map(String.init), forKey: .size)
        try c.encode(status, forKey: .status)
        try c.encode(cause ?? "null", forKey: .cause)
        try c.encodeIfPresent(createTime.map(String.init), forKey: .createTime)
        try c.encodeIfPresent(videoURL, forKey: .videoURL)
        try c.encodeIfPresent(coverURL, forKey: .coverURL)
        try c.encode(fps, forKey: .fps)
        try c.encode(width, forKey: .width)
        try c.encode(height, forKey: .height)
        try c.encode(resolutionLabel, forKey: .resolutionLabel)
        // Capture metadata is present only when it was supplied at upload time.
        try c.encodeIfPresent(datetimeTaken.map(String.init), forKey: .datetimeTaken)
        try c.encodeIfPresent(cameraModel, forKey: .cameraModel)
        try c.encodeIfPresent(latitude, forKey: .latitude)
        try c.encodeIfPresent(longitude, forKey: .longitude)
        try c.encode(tags, forKey: .tags)
        try c.encodeIfPresent(bucket, forKey: .bucket)
        try c.encodeIfPresent(blob, forKey: .blob)
    }
}

/// The `data` of a `list_videos` reply.
public typealias VideoPage = Page<Video>

extension Video: PageItem {
    /// A video that cannot be read (no `video_no`) fails its page: a listing that quietly lacked
    /// it would be taken for one where it was deleted.
    public static let badItemFailsPage = true
}
