import MaviAPI

/// The filters of `list_videos`. All are combined with AND; an empty filter lists everything.
///
/// The metadata filters (``cameraModel``, ``tag``, ``takenAtOrAfter``, ``near``) only match videos
/// whose summary exists, that is parsed videos.
public struct VideoFilter: Sendable, Hashable {
    /// Exact match on the stored name.
    public var videoName: String?
    /// Exact match on one id.
    public var videoNo: String?
    /// Only these ids.
    public var videoNos: [String]?
    /// Sent as the live spelling (`PARSE`, `UNPARSE`, `FAIL`) whatever spelling it was read from.
    public var status: VideoStatus?
    /// Exact match on the camera model given at upload.
    public var cameraModel: String?
    /// The video's tags must contain this one.
    public var tag: String?
    /// Minimum capture time, in milliseconds since the epoch.
    public var takenAtOrAfter: Int64?
    /// Within about 20 km of this point.
    public var near: GeoPoint?

    public init(
        videoName: String? = nil, videoNo: String? = nil, videoNos: [String]? = nil, status: VideoStatus? = nil,
        cameraModel: String? = nil, tag: String? = nil, takenAtOrAfter: Int64? = nil, near: GeoPoint? = nil
    ) {
        self.videoName = videoName
        self.videoNo = videoNo
        self.videoNos = videoNos
        self.status = status
        self.cameraModel = cameraModel
        self.tag = tag
        self.takenAtOrAfter = takenAtOrAfter
        self.near = near
    }

    func request(page: Int, size: Int, namespace: String) -> ListVideosRequest {
        ListVideosRequest(
            page: page, size: size, uniqueID: namespace, videoName: videoName, videoNo: videoNo,
            videoNos: videoNos, status: status?.wireValue, cameraModel: cameraModel, tag: tag,
            datetimeTaken: takenAtOrAfter, latitude: near?.latitude, longitude: near?.longitude
        )
    }
}

/// A latitude and longitude, which the API only accepts together.
public struct GeoPoint: Sendable, Hashable {
    public var latitude: Double
    public var longitude: Double

    public init(latitude: Double, longitude: Double) {
        self.latitude = latitude
        self.longitude = longitude
    }
}

extension VideoFilter {
    /// Whether `video` matches, judged from its listed fields as the service judges it; `nil` when
    /// that cannot be told locally (``near`` needs the service's notion of distance).
    ///
    /// For answering a filtered view from the full listing when the filtered query is late.
    public func matchesLocally(_ video: Video) -> Bool? {
        guard near == nil else { return nil }
        if let videoName, video.videoName != videoName { return false }
        if let videoNo, video.videoNo != videoNo { return false }
        if let videoNos, !videoNos.contains(video.videoNo) { return false }
        if let status, video.status.wireValue != status.wireValue { return false }
        // The metadata filters only see videos whose summary exists: parsed ones.
        if cameraModel != nil || tag != nil || takenAtOrAfter != nil, video.status != .parsed { return false }
        if let cameraModel, video.cameraModel != cameraModel { return false }
        if let tag, !video.tags.contains(tag) { return false }
        if let takenAtOrAfter, (video.datetimeTaken ?? .min) < takenAtOrAfter { return false }
        return true
    }
}
