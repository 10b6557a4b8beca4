import Hummingbird
import MaviAPI

/// Builds the absolute URLs a reply carries, from the address the client used to reach us.
///
/// File URLs are capability URLs, like the live service's public CDN links: they need no key, and
/// `/files/<token>/…` carries the namespace's random 128-bit token, so only someone who was handed a
/// URL (by an authenticated `list_videos`) can read the files. That keeps them safe to serve on any
/// interface, and lets players, rclone's `:http:` backend and httpdirfs use them directly.
struct PublicURLs: Sendable {
    static let bucket = "mavi-resource"

    var base: String

    init(request: Request, library: Library) {
        if let host = request.head.authority, Self.isPlainAuthority(host) {
            base = "http://\(host)"
        } else {
            let port = library.boundPort.withLock { $0 } ?? library.options.port
            let host = library.options.host.contains(":") ? "[\(library.options.host)]" : library.options.host
            base = "http://\(host):\(port)"
        }
    }

    func filesDirectory(_ namespace: NamespaceRecord) -> String { "\(base)/files/\(namespace.fileToken)/" }

    func video(_ record: VideoRecord, in namespace: NamespaceRecord) -> String {
        filesDirectory(namespace) + record.fileName
    }

    func cover(_ record: VideoRecord, in namespace: NamespaceRecord) -> String {
        "\(base)/covers/\(namespace.fileToken)/\(record.videoNo).jpg"
    }

    /// Accepts `host`, `host:port` and `[v6]:port` only, so a forged `Host` cannot inject markup.
    private static func isPlainAuthority(_ s: String) -> Bool {
        !s.isEmpty && s.count < 256 && s.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || ".-:[]".unicodeScalars.contains($0))
        }
    }
}

/// Turns stored videos into the wire model, with the live service's presentation rules.
enum VideoPresenter {
    static func video(_ r: VideoRecord, namespace: NamespaceRecord, urls: PublicURLs) -> Video {
        let status = VideoStatus(wireValue: r.status)
        // Capture metadata and tags come from the summary written when parsing ends.
        let summary = status == .parsed
        return Video(
            videoNo: r.videoNo,
            videoName: r.videoName,
            duration: r.duration,
            size: r.size,
            status: status,
            cause: r.cause,
            createTime: r.createTime,
            datetimeTaken: summary ? r.datetimeTaken : nil,
            cameraModel: summary ? r.cameraModel : nil,
            latitude: summary ? r.latitude : nil,
            longitude: summary ? r.longitude : nil,
            tags: summary ? r.tags : [],
            videoURL: r.hasOriginal ? urls.video(r, in: namespace) : nil,
            coverURL: r.hasCover ? urls.cover(r, in: namespace) : nil,
            bucket: r.hasOriginal ? PublicURLs.bucket : nil,
            blob: r.hasOriginal ? r.fileName : nil,
            fps: r.fps,
            width: r.width,
            height: r.height,
            resolutionLabel: resolutionLabel(width: r.width, height: r.height))
    }

    /// `720p`-style label from the shorter side.
    static func resolutionLabel(width: Int?, height: Int?) -> String? {
        guard let width, let height, width > 0, height > 0 else { return nil }
        return "\(min(width, height))p"
    }
}
