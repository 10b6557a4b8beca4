import MaviAPI

/// Client-side rate limits per endpoint, so that a busy mount waits its turn instead of being
/// refused with `0429`.
///
/// The defaults are the documented per-account limits. A self-hosted server may allow more, and
/// `nil` for an endpoint means unlimited.
public struct Pacing: Sendable, Equatable {
    public var limits: [MaviEndpoint: RateLimit]
    /// Added to every window, a margin for the server's own timekeeping: requests are already
    /// counted from the moment their answer arrived, so network delays cannot bunch them up.
    public var slack: Duration

    public init(limits: [MaviEndpoint: RateLimit], slack: Duration = .milliseconds(50)) {
        self.limits = limits
        self.slack = slack
    }

    public subscript(endpoint: MaviEndpoint) -> RateLimit? {
        get { limits[endpoint] }
        set { limits[endpoint] = newValue }
    }

    /// The documented limits of the live service.
    ///
    /// `get_metadata` has no documented limit and is paced like `list_videos`, its sibling. The
    /// `GET` object route is paced like the download route because nothing says it is counted
    /// apart from it. Ranged fetches go to a CDN and are not paced.
    ///
    /// Downloads (12 a minute) are spread, one every 5 seconds, rather than let through in a
    /// burst of 12: after a burst the 13th video of a sweep over many files (a file manager, a
    /// media scanner) would wait most of a minute, past any read timeout, while spread no read
    /// waits more than 5 seconds for its turn. Where Range is honoured none of this applies.
    ///
    /// Search and the transcript endpoints (one shared "Transcription" limit) go 1 a second.
    public static let documented = Pacing(limits: [
        .listVideos: .listVideos,
        .getMetadata: .listVideos,
        .download: .spreadDownloads,
        .object: .spreadDownloads,
        .deleteVideos: .deleteVideos,
        .upload: .upload,
        .search: .search,
        .getAudioTranscription: .transcription,
    ])

    public static let unlimited = Pacing(limits: [:], slack: .zero)
}

extension RateLimit {
    /// The download limit, 12 a minute, as one request every 5 seconds: never more than 12 in
    /// any minute, and never a long wait after a burst.
    public static let spreadDownloads = RateLimit(requests: 1, perSeconds: RateLimit.download.perSeconds / Double(RateLimit.download.requests))
}
