import Hummingbird
import MaviAPI

extension Library {
    /// `GET /serve/api/v1/get_audio_transcription?video_no=&unique_id=`: the speech track, or
    /// `data: null` for an unknown video, one not processed yet, or one without speech.
    func getAudioTranscription(_ request: Request, _ context: LibraryRequestContext) async throws -> Response {
        try await transcript(request, track: .speech)
    }

    /// `GET /serve/api/v1/get_video_caption?video_no=&unique_id=`: the same shape for captions,
    /// which exist here only when the uploaded file carries a second subtitle track.
    func getVideoCaption(_ request: Request, _ context: LibraryRequestContext) async throws -> Response {
        try await transcript(request, track: .caption)
    }

    private func transcript(_ request: Request, track: TranscriptTrack) async throws -> Response {
        let query = request.uri.queryParameters
        guard let videoNo = query.get("video_no"), !videoNo.isEmpty else {
            throw APIFailure.invalid(APIMessage.videoNoEmpty)
        }
        let namespace = try await database.namespace(named: Self.namespaceName(query.get("unique_id")))
        guard let video = try await database.video(videoNo, namespace: namespace.name),
              video.status == VideoStatus.parsed.wireValue else {
            return JSONReply.success(Optional<Transcript>.none)
        }
        let segments = try await database.segments(videoNo: videoNo, track: track)
        guard !segments.isEmpty else { return JSONReply.success(Optional<Transcript>.none) }
        return JSONReply.success(Transcript(segments: segments.map(\.segment)))
    }

    /// `GET /serve/api/v1/search_audio_transcripts?query=&page=&page_size=&unique_id=`: speech
    /// segments holding the phrase as it is (case and accents aside), newest video first.
    func searchAudioTranscripts(_ request: Request, _ context: LibraryRequestContext) async throws -> Response {
        let parameters = request.uri.queryParameters
        guard let phrase = parameters.get("query"), !phrase.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw APIFailure.invalid(ServerMessages.queryEmpty)
        }
        let page = try Self.integerParameter(parameters.get("page"), default: 1)
        guard page >= 1, page <= Int(Int32.max) else { throw APIFailure.invalid(ServerMessages.pageInvalid) }
        let size = try Self.integerParameter(parameters.get("page_size"), default: Self.defaultTranscriptPageSize)
        guard size >= 1, size <= APILimits.maxTranscriptPageSize else { throw APIFailure.invalid(ServerMessages.transcriptPageSizeInvalid) }
        let namespace = try await database.namespace(named: Self.namespaceName(parameters.get("unique_id")))
        let (offset, overflow) = (page - 1).multipliedReportingOverflow(by: size)
        let found = try await database.phraseMatches(
            LexicalQuery.fold(phrase), namespace: namespace.name, offset: overflow ? Int(Int32.max) : offset, limit: size)
        let videos = found.matches.map { video, segment in
            TranscriptMatch(
                videoNo: video.videoNo, videoName: video.videoName, startTime: Double(segment.startMs) / 1000,
                audioTS: WireSeconds.text(Double(segment.startMs) / 1000),
                videoBucket: video.hasOriginal ? PublicURLs.bucket : nil, videoBlob: video.hasOriginal ? video.fileName : nil)
        }
        return JSONReply.success(TranscriptMatchPage(currentPage: page, pageSize: size, totalCount: Int64(found.total), videos: videos))
    }

    /// The live service's default is not documented.
    static let defaultTranscriptPageSize = 20

    /// A query parameter that must be an integer when present.
    private static func integerParameter(_ text: String?, default value: Int) throws -> Int {
        guard let text, !text.isEmpty else { return value }
        guard let n = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw APIFailure.invalid("Failed to convert value of type 'java.lang.String' to required type 'int'; For input string: \"\(text)\"")
        }
        return n
    }
}
