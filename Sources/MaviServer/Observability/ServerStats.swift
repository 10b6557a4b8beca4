/// What the server has served since it started (or since the last reset), so tests can check a
/// client's behaviour from the server side, e.g. that each video was downloaded once.
///
/// JSON (snake_case) is what `GET /_admin/stats` returns.
public struct ServerStats: Codable, Sendable, Equatable {
    /// Requests that reached each endpoint, by `Endpoint` raw value, whatever their outcome.
    public var requests: [String: Int]
    /// `POST download` streams started, per `video_no`.
    public var downloads: [String: Int]
    /// `GET` requests of a video's file URL (ranged or not), per `video_no`.
    public var fileRequests: [String: Int]
    /// Bucket/blob downloads started, per `video_no`.
    public var blobDownloads: [String: Int]
    /// Body bytes written by streamed responses (downloads, file URLs, covers).
    public var bytesStreamed: Int64
    /// Streamed responses still sending (or stalled) right now; a reset leaves it as it is.
    public var streamsOpen: Int

    public init(
        requests: [String: Int] = [:], downloads: [String: Int] = [:], fileRequests: [String: Int] = [:],
        blobDownloads: [String: Int] = [:], bytesStreamed: Int64 = 0, streamsOpen: Int = 0
    ) {
        self.requests = requests
        self.downloads = downloads
        self.fileRequests = fileRequests
        self.blobDownloads = blobDownloads
        self.bytesStreamed = bytesStreamed
        self.streamsOpen = streamsOpen
    }

    enum CodingKeys: String, CodingKey {
        case requests, downloads, fileRequests = "file_requests", blobDownloads = "blob_downloads"
        case bytesStreamed = "bytes_streamed", streamsOpen = "streams_open"
    }

    /// Requests that reached `endpoint`.
    public func requests(_ endpoint: Endpoint) -> Int { requests[endpoint.rawValue] ?? 0 }
}
