import Hummingbird
import MaviAPI

/// The body of `list_videos` as sent, before validation.
private struct ListVideosBody: Decodable {
    var page: Int64?
    var size: Int64?
    var uniqueID: String?
    var videoName: String?
    var videoNo: String?
    var videoNos: [String]?
    var status: String?
    var cameraModel: String?
    var tag: String?
    var datetimeTaken: Int64?
    var latitude: Double?
    var longitude: Double?

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: FieldKey.self)
        page = try c.strictInt64(FieldKey("page"))
        size = try c.strictInt64(FieldKey("size"))
        uniqueID = try c.strictString(FieldKey("unique_id"))
        videoName = try c.strictString(FieldKey("video_name"))
        videoNo = try c.strictString(FieldKey("video_no"))
        videoNos = try c.strictStrings(FieldKey("video_nos"))
        status = try c.strictString(FieldKey("status"))
        cameraModel = try c.strictString(FieldKey("camera_model"))
        tag = try c.strictString(FieldKey("tag"))
        datetimeTaken = try c.strictInt64(FieldKey("datetime_taken"))
        latitude = try c.strictDouble(FieldKey("latitude"))
        longitude = try c.strictDouble(FieldKey("longitude"))
    }

    /// Applies the documented rules: page and size > 0, a non-empty `unique_id`, the live status
    /// enum, latitude and longitude together. Blank string filters count as absent.
    func validated() throws -> VideoListQuery {
        let page = self.page ?? 1
        guard page > 0, page <= Int64(Int32.max) else { throw APIFailure.invalid(ServerMessages.pageInvalid) }
        let size = self.size ?? Int64(APILimits.defaultPageSize)
        guard size > 0, size <= Int64(Int32.max) else { throw APIFailure.invalid(ServerMessages.sizeInvalid) }
        let namespace = uniqueID ?? APILimits.defaultNamespace
        guard !namespace.isEmpty else { throw APIFailure.invalid(ServerMessages.uniqueIDEmpty) }
        if let status, !VideoStatus.filterValues.contains(status) {
            throw APIFailure.invalid(ServerMessages.statusInvalid(status))
        }
        guard (latitude == nil) == (longitude == nil) else { throw APIFailure.invalid(APIMessage.latLonTogether) }
        func nonBlank(_ s: String?) -> String? { s.flatMap { $0.isEmpty ? nil : $0 } }
        return VideoListQuery(
            namespace: namespace, page: Int(page), size: Int(size),
            videoName: nonBlank(videoName), videoNo: nonBlank(videoNo),
            videoNos: videoNos.flatMap { $0.isEmpty ? nil : $0 }, status: status,
            cameraModel: nonBlank(cameraModel), tag: nonBlank(tag), datetimeTakenMin: datetimeTaken,
            latitude: latitude, longitude: longitude)
    }
}

extension Library {
    /// `POST /serve/api/v1/list_videos`.
    func listVideos(_ request: Request, _ context: LibraryRequestContext) async throws -> Response {
        let query = try await JSONBody.decode(ListVideosBody.self, from: request, context: context).validated()
        let namespace = try await database.namespace(named: query.namespace)
        let result = try await database.list(query)
        let urls = PublicURLs(request: request, library: self)
        let page = VideoPage(
            currentPage: query.page, pageSize: query.size, totalCount: Int64(result.totalCount),
            videos: result.videos.map { VideoPresenter.video($0, namespace: namespace, urls: urls) })
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: VideoPageJSON.envelope(page)))
    }

    /// `GET /serve/api/v1/get_metadata?video_no=&unique_id=`: one video, or `data: null`.
    func getMetadata(_ request: Request, _ context: LibraryRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        guard let videoNo = query.get("video_no"), !videoNo.isEmpty else {
            throw APIFailure.invalid(APIMessage.videoNoEmpty)
        }
        let namespace = try await database.namespace(named: Self.namespaceName(query.get("unique_id")))
        guard let stored = try await database.video(videoNo, namespace: namespace.name) else {
            return JSONReply.success(Optional<Video>.none)
        }
        let urls = PublicURLs(request: request, library: self)
        return JSONReply.success(VideoPresenter.video(stored, namespace: namespace, urls: urls))
    }

    /// `unique_id` where omitting it (or leaving it blank) means the default namespace.
    static func namespaceName(_ value: String?) -> String {
        guard let value, !value.isEmpty else { return APILimits.defaultNamespace }
        return value
    }
}
