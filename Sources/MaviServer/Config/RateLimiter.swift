import MaviAPI
import Synchronization

/// The documented per-account limits, enforced per API key with a sliding window: a request is
/// admitted when fewer than `requests` were admitted for the same key and bucket within the last
/// `perSeconds`. Rejected requests do not count.
final class RateLimiter: Sendable {
    /// Endpoints that share one limit.
    enum Bucket: Hashable, Sendable {
        case listVideos, deleteVideos, download, upload
        /// `search`.
        case search
        /// `get_audio_transcription`, `get_video_caption`, `search_audio_transcripts`.
        case transcription

        var limit: RateLimit {
            switch self {
            case .listVideos: .listVideos
            case .deleteVideos: .deleteVideos
            case .download: .download
            case .upload: .upload
            case .search: .search
            case .transcription: .transcription
            }
        }
    }

    private struct WindowKey: Hashable {
        var key: APIKeyID
        var bucket: Bucket
    }

    private let enabled: Bool
    private let clock = ContinuousClock()
    private let windows = Mutex<[WindowKey: [ContinuousClock.Instant]]>([:])

    init(enabled: Bool) {
        self.enabled = enabled
    }

    /// Records and admits the request, or returns false when the limit is reached.
    func admit(_ key: APIKeyID, _ bucket: Bucket) -> Bool {
        guard enabled else { return true }
        let now = clock.now
        let limit = bucket.limit
        let windowStart = now - .milliseconds(Int64(limit.perSeconds * 1000))
        return windows.withLock { windows in
            var admitted = windows[WindowKey(key: key, bucket: bucket), default: []]
            admitted.removeAll { $0 <= windowStart }
            let ok = admitted.count < limit.requests
            if ok { admitted.append(now) }
            windows[WindowKey(key: key, bucket: bucket)] = admitted
            return ok
        }
    }
}
