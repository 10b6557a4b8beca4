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
/// range-less.
///
/// What was learnt is kept in the cache folder, so a new mount's first read of a video goes
/// straight to the right source. A range-less verdict is trusted for a day and then probed again
/// (one request), since a server's configuration can change; an honoured one is corrected by the
/// first `200`.
final class RangeSupportRegistry: Sendable {
    enum Support: String, Sendable, Equatable, Codable {
        case unknown
        case honoured
        case ignored
    }

    private struct Verdict: Codable {
        var support: Support
        /// When it was learnt, in seconds since 1970.
        var learnt: Double
    }

    static let ignoredTrustedFor: Double = 24 * 3600

    private let known = Mutex<[String: Verdict]>([:])
    private let file: String?

    /// Starts from what `file` holds (when given); changes are written back to it.
    init(file: String? = nil, now: Date = Date()) {
        self.file = file
        guard let file, let data = FileManager.default.contents(atPath: file),
              let saved = try? JSONDecoder().decode([String: Verdict].self, from: data) else { return }
        let trusted = saved.filter { _, verdict in
            verdict.support == .honoured
                || verdict.support == .ignored && now.timeIntervalSince1970 - verdict.learnt < Self.ignoredTrustedFor
        }
        known.withLock { $0 = trusted }
    }

    func support(of origin: String) -> Support {
        known.withLock { $0[origin]?.support ?? .unknown }
    }

    func recordHonoured(_ origin: String) {
        let changed = known.withLock { state -> Bool in
            guard state[origin]?.support == nil || state[origin]?.support == .unknown else { return false }
            state[origin] = Verdict(support: .honoured, learnt: Date().timeIntervalSince1970)
            return true
        }
        if changed { save() }
    }

    /// Returns whether this is news (the origin was not known as range-less before).
    @discardableResult
    func recordIgnored(_ origin: String) -> Bool {
        let news = known.withLock { state -> Bool in
            defer { state[origin] = Verdict(support: .ignored, learnt: Date().timeIntervalSince1970) }
            return state[origin]?.support != .ignored
        }
        if news { save() }
        return news
    }

    /// Written whole through a rename, so a reader never sees half a file.
    private func save() {
        guard let file else { return }
        let snapshot = known.withLock { $0 }
        guard let data = try? JSONEncoder().encode(snapshot) else { return }
        let temporary = file + CacheLayout.temporarySuffix
        guard FileManager.default.createFile(atPath: temporary, contents: data) else { return }
        rename(temporary, file)
    }
}
