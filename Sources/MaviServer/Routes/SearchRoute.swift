import Hummingbird
import MaviAPI

/// The body of `search` as sent, before validation.
private struct SearchBody: Decodable {
    var searchParam: String?
    var searchType: String?
    var uniqueID: String?
    var topK: Int64?
    var filteringLevel: String?
    var videoNos: [String]?
    var tag: String?
    var cameraTag: String?
    var datetimeTaken: Int64?
    var latitude: Double?
    var longitude: Double?

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: FieldKey.self)
        searchParam = try c.strictString(FieldKey("search_param"))
        searchType = try c.strictString(FieldKey("search_type"))
        uniqueID = try c.strictString(FieldKey("unique_id"))
        topK = try c.strictInt64(FieldKey("top_k"))
        filteringLevel = try c.strictString(FieldKey("filtering_level"))
        videoNos = try c.strictStrings(FieldKey("video_nos"))
        tag = try c.strictString(FieldKey("tag"))
        cameraTag = try c.strictString(FieldKey("camera_tag"))
        datetimeTaken = try c.strictInt64(FieldKey("datetime_taken"))
        latitude = try c.strictDouble(FieldKey("latitude"))
        longitude = try c.strictDouble(FieldKey("longitude"))
    }

    func validated() throws -> ValidatedSearch {
        guard let text = searchParam, !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw APIFailure.invalid(ServerMessages.searchParamEmpty)
        }
        // Not documented as optional or not; a missing type searches as BY_CLIP, the general kind.
        let typeName = searchType ?? SearchType.byClip.rawValue
        guard let type = SearchType(rawValue: typeName) else { throw APIFailure.invalid(ServerMessages.searchTypeInvalid(typeName)) }
        let topK = self.topK ?? Int64(ValidatedSearch.defaultTopK)
        guard topK >= 1, topK <= Int64(type.maxTopK) else { throw APIFailure.invalid(ServerMessages.topKInvalid(max: type.maxTopK)) }
        var level: FilteringLevel?
        if let filteringLevel, !filteringLevel.isEmpty {
            guard let known = FilteringLevel(rawValue: filteringLevel.lowercased()) else {
                throw APIFailure.invalid(ServerMessages.filteringLevelInvalid)
            }
            level = known
        }
        guard (videoNos?.count ?? 0) <= APILimits.maxSearchVideoNos else { throw APIFailure.invalid(ServerMessages.searchVideoNosTooMany) }
        guard (latitude == nil) == (longitude == nil) else { throw APIFailure.invalid(APIMessage.latLonTogether) }
        let namespace = uniqueID ?? APILimits.defaultNamespace
        guard !namespace.isEmpty else { throw APIFailure.invalid(ServerMessages.uniqueIDEmpty) }
        func nonBlank(_ s: String?) -> String? { s.flatMap { $0.isEmpty ? nil : $0 } }
        let filters = VideoListQuery(
            namespace: namespace, page: 1, size: 1, videoNos: videoNos.flatMap { $0.isEmpty ? nil : $0 },
            cameraModel: nonBlank(cameraTag), tag: nonBlank(tag), datetimeTakenMin: datetimeTaken,
            latitude: latitude, longitude: longitude)
        return ValidatedSearch(query: LexicalQuery(text), type: type, topK: Int(topK), minimumScore: level?.minimumScore, filters: filters)
    }
}

/// A `search` request that passed validation.
struct ValidatedSearch: Sendable {
    /// The live service's default is not documented.
    static let defaultTopK = 20

    /// Nil when the text holds no word: nothing can match.
    var query: LexicalQuery?
    var type: SearchType
    var topK: Int
    var minimumScore: Double?
    var filters: VideoListQuery
}

/// The `BY_IMAGE` reply: that search looks in a separate image library, which this server has not.
private struct ImageSearchReply: Encodable, Sendable {
    var item: [SearchHit] = []
}

extension Library {
    /// `POST /serve/api/v1/search`: clip hits ranked by the words of names, tags, transcripts and
    /// captions (see `LexicalQuery`), best first, at most `top_k`, at least the filtering level's score.
    func search(_ request: Request, _ context: LibraryRequestContext) async throws -> Response {
        let search = try await JSONBody.decode(SearchBody.self, from: request, context: context).validated()
        if search.type == .byImage { return JSONReply.success(ImageSearchReply()) }
        _ = try await database.namespace(named: search.filters.namespace)
        guard let query = search.query else { return JSONReply.success(SearchHits([])) }
        let candidates = try await database.searchCandidates(search.filters)
        let byNumber = Dictionary(candidates.map { ($0.videoNo, $0) }, uniquingKeysWith: { a, _ in a })
        let ranked = try await SearchRanking.hits(for: query, type: search.type, candidates: candidates, byNumber: byNumber, database: database)
        let kept = ranked.filter { $0.score >= (search.minimumScore ?? 0) && $0.score > 0 }.prefix(search.topK)
        return JSONReply.success(SearchHits(Array(kept)))
    }
}

/// Where `search` looks for each type, and how its hits are ordered.
enum SearchRanking {
    static func tracks(for type: SearchType) -> (names: Bool, tracks: [TranscriptTrack]) {
        switch type {
        case .byClip, .byVideo: (true, [.speech, .caption])
        case .byAudio: (false, [.speech])
        case .byCaption: (false, [.caption])
        case .byImage: (false, [])
        }
    }

    static func hits(
        for query: LexicalQuery, type: SearchType, candidates: [VideoRecord], byNumber: [String: VideoRecord], database: LibraryDatabase
    ) async throws -> [SearchHit] {
        let (names, tracks) = tracks(for: type)
        var hits: [(hit: SearchHit, createTime: Int64)] = []
        if names {
            // A match on the name or a tag stands for the whole video.
            for video in candidates {
                let score = query.score(([video.videoName] + video.tags).joined(separator: " \u{1F} "))
                guard score > 0 else { continue }
                hits.append((hit(video, start: 0, end: Double(video.duration ?? 0), score: score, speech: false), video.createTime))
            }
        }
        let namespace = candidates.first?.namespace ?? ""
        for segment in try await database.segmentsContaining(anyOf: query.terms, tracks: tracks, namespace: namespace) {
            guard let video = byNumber[segment.videoNo] else { continue }
            let score = query.score(segment.content)
            guard score > 0 else { continue }
            hits.append((
                hit(video, start: Double(segment.startMs) / 1000, end: Double(segment.endMs) / 1000, score: score, speech: segment.track == .speech),
                video.createTime))
        }
        hits.sort { a, b in
            if a.hit.score != b.hit.score { return a.hit.score > b.hit.score }
            if a.createTime != b.createTime { return a.createTime > b.createTime }
            if a.hit.videoNo != b.hit.videoNo { return a.hit.videoNo > b.hit.videoNo }
            return a.hit.startTime < b.hit.startTime
        }
        return hits.map(\.hit)
    }

    private static func hit(_ video: VideoRecord, start: Double, end: Double, score: Double, speech: Bool) -> SearchHit {
        SearchHit(
            videoNo: video.videoNo, videoName: video.videoName, startTime: start, endTime: max(start, end),
            audioTS: speech ? WireSeconds.text(start) : nil, score: score,
            videoBucket: video.hasOriginal ? PublicURLs.bucket : nil, videoBlob: video.hasOriginal ? video.fileName : nil)
    }
}
