/// A validated `list_videos` request.
struct VideoListQuery: Sendable, Equatable {
    var namespace: String
    var page: Int
    var size: Int
    var videoName: String?
    var videoNo: String?
    var videoNos: [String]?
    var status: String?
    var cameraModel: String?
    var tag: String?
    var datetimeTakenMin: Int64?
    var latitude: Double?
    var longitude: Double?

    /// Metadata filters are resolved against parsed videos only, as the live service resolves them
    /// against the summary written when parsing ends.
    var usesMetadataFilter: Bool {
        cameraModel != nil || tag != nil || datetimeTakenMin != nil || latitude != nil
    }

    /// Rows to skip, or nil when the page lies beyond any possible result.
    var offset: Int? {
        let (product, overflow) = (page - 1).multipliedReportingOverflow(by: size)
        return overflow ? nil : product
    }
}

/// One page of results with the total across all pages.
struct VideoListResult: Sendable {
    var totalCount: Int
    var videos: [VideoRecord]
}
