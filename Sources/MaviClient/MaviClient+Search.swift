import MaviAPI

/// What a search looks in, and how strict it is; every filter is optional.
public struct SearchOptions: Sendable, Equatable {
    public var type: SearchType
    public var topK: Int
    public var filteringLevel: FilteringLevel?
    public var videoNos: [String]?
    public var tag: String?
    public var cameraModel: String?
    /// At or after, milliseconds since the epoch.
    public var datetimeTaken: Int64?
    public var latitude: Double?
    public var longitude: Double?

    public init(
        type: SearchType = .byClip, topK: Int = 100, filteringLevel: FilteringLevel? = nil, videoNos: [String]? = nil,
        tag: String? = nil, cameraModel: String? = nil, datetimeTaken: Int64? = nil, latitude: Double? = nil, longitude: Double? = nil
    ) {
        self.type = type
        self.topK = topK
        self.filteringLevel = filteringLevel
        self.videoNos = videoNos
        self.tag = tag
        self.cameraModel = cameraModel
        self.datetimeTaken = datetimeTaken
        self.latitude = latitude
        self.longitude = longitude
    }
}

extension MaviClient {
    /// Clip hits for `text`, as the service ranks them (best first). `BY_IMAGE` looks in the
    /// separate image library and answers another shape; its items are read where they carry a
    /// video number. Paced at 1 a second.
    public func search(_ text: String, options: SearchOptions = SearchOptions()) async throws -> [SearchHit] {
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw MaviClientError.invalidRequest(endpoint: .search, reason: "empty search text")
        }
        guard (1...options.type.maxTopK).contains(options.topK) else {
            throw MaviClientError.invalidRequest(endpoint: .search, reason: "top_k must be 1…\(options.type.maxTopK) for \(options.type.rawValue) (\(options.topK))")
        }
        guard (options.videoNos?.count ?? 0) <= APILimits.maxSearchVideoNos else {
            throw MaviClientError.invalidRequest(endpoint: .search, reason: "at most \(APILimits.maxSearchVideoNos) video numbers")
        }
        guard (options.latitude == nil) == (options.longitude == nil) else {
            throw MaviClientError.invalidRequest(endpoint: .search, reason: "latitude and longitude go together")
        }
        let request = SearchRequest(
            searchParam: text, searchType: options.type, uniqueID: configuration.namespace, topK: options.topK,
            filteringLevel: options.filteringLevel, videoNos: options.videoNos, tag: options.tag, cameraTag: options.cameraModel,
            datetimeTaken: options.datetimeTaken, latitude: options.latitude, longitude: options.longitude)
        // A success with `data: null` is read as no hits.
        return try await callJSON(.search, method: .POST, body: Self.jsonBody(request), decoding: SearchHits.self)?.hits ?? []
    }

    /// One page of the videos whose speech holds `phrase` exactly. Paced at 1 a second.
    public func searchAudioTranscripts(_ phrase: String, page: Int = 1, pageSize: Int = 100) async throws -> TranscriptMatchPage {
        guard !phrase.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw MaviClientError.invalidRequest(endpoint: .searchAudioTranscripts, reason: "empty phrase")
        }
        guard page >= 1, (1...APILimits.maxTranscriptPageSize).contains(pageSize) else {
            throw MaviClientError.invalidRequest(
                endpoint: .searchAudioTranscripts, reason: "page must be at least 1 and page_size 1…\(APILimits.maxTranscriptPageSize) (page \(page), page_size \(pageSize))")
        }
        let reply = try await callJSON(
            .searchAudioTranscripts, method: .GET,
            query: ["query": phrase, "page": String(page), "page_size": String(pageSize), "unique_id": configuration.namespace],
            decoding: TranscriptMatchPage.self)
        return reply ?? TranscriptMatchPage(currentPage: page, pageSize: pageSize, totalCount: 0, videos: [])
    }

    /// A video's speech as timed lines, or nil when it has none (no audio, not processed yet,
    /// unknown). Paced with the other transcript endpoints at 1 a second.
    public func audioTranscription(videoNo: String) async throws -> Transcript? {
        try await timedText(.getAudioTranscription, videoNo: videoNo)
    }

    /// A video's visual captions as timed lines, or nil when it has none.
    public func videoCaption(videoNo: String) async throws -> Transcript? {
        try await timedText(.getVideoCaption, videoNo: videoNo)
    }

    private func timedText(_ endpoint: MaviEndpoint, videoNo: String) async throws -> Transcript? {
        guard !videoNo.isEmpty else { throw MaviClientError.invalidRequest(endpoint: endpoint, reason: "empty video number") }
        return try await callJSON(endpoint, method: .GET, query: ["video_no": videoNo, "unique_id": configuration.namespace], decoding: Transcript.self)
    }
}
