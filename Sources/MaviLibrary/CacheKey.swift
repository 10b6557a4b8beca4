/// What identifies a cached file: the namespace, the video and the size the listing gives.
///
/// A video whose listed size changes gets a new key, so bytes cached for the old size are never
/// served for the new one.
public struct CacheKey: Hashable, Sendable, CustomStringConvertible {
    public var namespace: String
    public var videoNo: String
    public var size: Int64

    public init(namespace: String, videoNo: String, size: Int64) {
        self.namespace = namespace
        self.videoNo = videoNo
        self.size = size
    }

    public var description: String { "\(namespace)/\(videoNo) (\(size) bytes)" }
}
