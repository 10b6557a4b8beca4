import FUSE
import Foundation
import MaviAPI

/// `user.mavi.*` extended attributes: the video's metadata, readable with `getfattr -d`; and
/// beside them the ones desktop tools read: `user.xdg.tags` (KDE's Dolphin and Baloo),
/// `user.xdg.comment`, `user.xdg.origin.url` and `user.mime_type`.
extension MaviFileSystem {
    static let xattrPrefix = "user.mavi."
    static let desktopXattrNames = ["user.xdg.tags", "user.xdg.comment", "user.xdg.origin.url", "user.mime_type"]

    public var extendedAttributePrefixes: [String]? { [Self.xattrPrefix, "user.xdg.", "user.mime_type"] }

    func xattrs(of video: Video) -> [(String, String)] {
        var a: [(String, String)] = [("video_no", video.videoNo), ("status", video.status.wireValue)]
        if !video.tags.isEmpty { a.append(("tags", video.tags.joined(separator: ","))) }
        if let c = video.cameraModel { a.append(("camera_model", c)) }
        if let t = video.datetimeTaken { a.append(("datetime_taken", Self.isoDate(t))) }
        if let v = video.latitude { a.append(("latitude", String(v))) }
        if let v = video.longitude { a.append(("longitude", String(v))) }
        if let v = video.duration { a.append(("duration", String(v))) }
        if let v = video.width { a.append(("width", String(v))) }
        if let v = video.height { a.append(("height", String(v))) }
        if let v = video.fps { a.append(("fps", String(v))) }
        if video.status.isFailed { a.append(("cause", video.cause ?? "unknown")) }
        return a.map { (Self.xattrPrefix + $0.0, $0.1) } + desktopXattrs(of: video) + searchXattrs(of: video.videoNo)
    }

    /// The attributes of the freedesktop.org convention, from the same record.
    func desktopXattrs(of video: Video) -> [(String, String)] {
        var a: [(String, String)] = []
        if !video.tags.isEmpty { a.append(("user.xdg.tags", video.tags.joined(separator: ","))) }
        a.append(("user.xdg.comment", video.videoName.isEmpty ? video.videoNo : video.videoName))
        if let url = video.videoURL.flatMap(Self.originURL) { a.append(("user.xdg.origin.url", url)) }
        a.append(("user.mime_type", VideoTypes.mimeType(ofExtension: FileNaming.fileExtension(video))))
        return a
    }

    /// A file URL without its query, fragment or credentials: desktop indexers copy this
    /// attribute into their databases, and a signed URL's query is a secret that expires.
    static func originURL(_ text: String) -> String? {
        guard !text.isEmpty, var parts = URLComponents(string: text) else { return nil }
        parts.query = nil
        parts.fragment = nil
        parts.user = nil
        parts.password = nil
        return parts.string
    }

    static func isoDate(_ ms: Int64) -> String {
        Date(timeIntervalSince1970: Double(ms) / 1000).formatted(.iso8601)
    }

    private func video(at inode: Inode) throws -> Video? {
        switch inodes.node(inode) {
        case .video(let no): return state.withLock { $0.videos[no] }
        case .directory, .cover, .sharedThumbnail, .generated, .subtitle: return nil
        case nil: throw FUSEError.notFound
        }
    }

    public func listxattr(inode: Inode, context: RequestContext) async throws -> [String] {
        guard let v = try video(at: inode) else { return [] }
        return xattrs(of: v).map(\.0)
    }

    public func getxattr(inode: Inode, name: String, context: RequestContext) async throws -> [UInt8] {
        // `ls -l` asks every file for security.selinux and the POSIX ACLs: answer those without
        // building the video's attributes, since they come once per file in a listing.
        guard name.hasPrefix(Self.xattrPrefix) || Self.desktopXattrNames.contains(name) else { throw FUSEError.noAttribute }
        guard let v = try video(at: inode), let value = xattrs(of: v).first(where: { $0.0 == name })?.1 else {
            throw FUSEError.noAttribute
        }
        return Array(value.utf8)
    }

    public func setxattr(inode: Inode, name: String, value: [UInt8], flags: Int32, context: RequestContext) async throws {
        throw FUSEError.notPermitted
    }

    public func removexattr(inode: Inode, name: String, context: RequestContext) async throws {
        throw FUSEError.notPermitted
    }
}
