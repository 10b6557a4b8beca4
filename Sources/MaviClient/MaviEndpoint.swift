import MaviAPI

/// The operations the client performs, used to name the endpoint in errors and log lines and to
/// pick the rate limit that paces each request.
public enum MaviEndpoint: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case listVideos = "list_videos"
    case getMetadata = "get_metadata"
    /// `POST /download` by video number: the whole file as one sequential stream.
    case download
    /// `GET /download?bucket=&blob=`: a stored object by its storage location.
    case object = "download_object"
    case deleteVideos = "delete_videos"
    case upload
    /// `POST /upload_url`: the service fetches the video from a URL.
    case uploadURL = "upload_url"
    /// A ranged `GET` of any URL, such as a video's CDN `video_url`.
    case range
    /// A `GET` of a video's `cover_url`, a JPEG frame.
    case cover
    /// `POST /search`: clip hits for a text.
    case search
    /// `GET /search_audio_transcripts`: videos whose speech holds a phrase.
    case searchAudioTranscripts = "search_audio_transcripts"
    /// `GET /get_audio_transcription`: a video's speech as timed lines.
    case getAudioTranscription = "get_audio_transcription"
    /// `GET /get_video_caption`: a video's visual captions as timed lines.
    case getVideoCaption = "get_video_caption"

    public var description: String { rawValue }

    /// The endpoint whose rate limit this one counts against. The service limits uploads "by file
    /// or URL" together, so `upload_url` waits its turn with `upload`; its rate-limit page names
    /// one "Transcription" limit, so the transcript and caption endpoints share one turn.
    var pacedAs: MaviEndpoint {
        switch self {
        case .uploadURL: .upload
        case .searchAudioTranscripts, .getVideoCaption: .getAudioTranscription
        default: self
        }
    }

    /// The path of the endpoint on the API host, or `nil` for requests to arbitrary URLs.
    var path: String? {
        switch self {
        case .listVideos: APIPath.listVideos
        case .getMetadata: APIPath.getMetadata
        case .download: APIPath.download
        case .object: APIPath.downloadV2
        case .deleteVideos: APIPath.deleteVideos
        case .upload: APIPath.upload
        case .uploadURL: APIPath.uploadURL
        case .search: APIPath.search
        case .searchAudioTranscripts: APIPath.searchAudioTranscripts
        case .getAudioTranscription: APIPath.getAudioTranscription
        case .getVideoCaption: APIPath.getVideoCaption
        case .range, .cover: nil
        }
    }
}
