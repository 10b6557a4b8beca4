import Foundation
import MaviClient
import Synchronization

/// Where a video's bytes can be asked for by `Range`, and which host answers for it.
struct RangeSource: Hashable, Sendable {
    let url: URL
    /// Scheme, host and port: a server's Range support is remembered per origin.
    let origin: String

    /// The video's `video_url`, or its bucket/blob object route when the client does not pace
    /// that route (paced like downloads, 12 a minute, it would make ranged reads slower than
    /// waiting for the stream).
    static func of(_ hint: SourceHint, client: MaviClient) -> RangeSource? {
        if let text = hint.videoURL, let url = URL(string: text), let origin = origin(of: url) {
            return RangeSource(url: url, origin: origin)
        }
        if let bucket = hint.bucket, let blob = hint.blob, !bucket.isEmpty, !blob.isEmpty,
           client.configuration.pacing[.object] == nil {
            let url = client.objectURL(bucket: bucket, blob: blob)
            if let origin = origin(of: url) { return RangeSource(url: url, origin: origin + " object") }
        }
        return nil
    }

    private static func origin(of url: URL) -> String? {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host?.lowercased(), !host.isEmpty else { return nil }
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        return "\(scheme)://\(host):\(port)"
    }
}

/// What each origin did with ranged requests. Nothing is assumed: an origin is used for ranged
/// reads only while its answers are `206` with the `Content-Range` asked for; the first such
/// request is the probe. One `200` (Range ignored) or a mismatched `Content-Range` makes it
/// range-less for the rest of the process.
final class RangeSupportRegistry: Sendable {
    enum Support: Sendable, Equatable {
        case unknown
        case honoured
        case ignored
    }

    private let known = Mutex<[String: Support]>([:])

    func support(of origin: String) -> Support {
        known.withLock { $0[origin] ?? .unknown }
    }

    func recordHonoured(_ origin: String) {
        known.withLock { state in
            if state[origin] != .ignored { state[origin] = .honoured }
        }
    }

    /// Returns whether this is news (the origin was not known as range-less before).
    @discardableResult
    func recordIgnored(_ origin: String) -> Bool {
        known.withLock { state in
            defer { state[origin] = .ignored }
            return state[origin] != .ignored
        }
    }
}
