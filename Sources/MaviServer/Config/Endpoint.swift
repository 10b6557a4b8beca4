/// The routes a client can reach, by the names used in stats, fault scopes and logs.
public enum Endpoint: String, Sendable, Codable, CaseIterable {
    case listVideos = "list_videos"
    /// `POST /serve/api/v1/download` (by `video_no`).
    case download
    case deleteVideos = "delete_videos"
    case getMetadata = "get_metadata"
    case upload
    case uploadURL = "upload_url"
    /// `GET /serve/api/v1|v2/download?bucket=&blob=`.
    case downloadBlob = "download_blob"
    /// The retired `DELETE /api/serve/video/delete`.
    case legacyDelete = "legacy_delete"
    case search
    case searchAudioTranscripts = "search_audio_transcripts"
    case getAudioTranscription = "get_audio_transcription"
    case getVideoCaption = "get_video_caption"
    /// The `video_url` file route.
    case file
    /// The `cover_url` route.
    case cover
    /// The HTML directory listing of a namespace's files.
    case index
}
