import Foundation
import Glibc

/// A user's thumbnail cache, as the Thumbnail Managing Standard lays it out:
/// `$XDG_CACHE_HOME/thumbnails/<size>/<md5 of the file's URI>.png`, folders 0700, files 0600.
public struct ThumbnailCache: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// The cache of the user running this process: `$XDG_CACHE_HOME/thumbnails`, else
    /// `~/.cache/thumbnails`.
    public static func ofCurrentUser(environment: [String: String] = ProcessInfo.processInfo.environment) -> ThumbnailCache {
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            return ThumbnailCache(root: xdg + "/thumbnails")
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return ThumbnailCache(root: home + "/.cache/thumbnails")
    }

    public func path(forURI uri: String, size: ThumbnailSize) -> String {
        root + "/" + size.folderName + "/" + FileURI.md5(uri) + ".png"
    }

    /// True when the thumbnail of `facts.uri` at `size` is there and still describes the file.
    public func isCurrent(_ facts: ThumbnailFacts, size: ThumbnailSize) -> Bool {
        guard let keys = ThumbnailImage.textKeys(of: path(forURI: facts.uri, size: size)) else { return false }
        return keys["Thumb::URI"] == facts.uri && keys["Thumb::MTime"] == String(facts.mtime)
            && keys["Thumb::Size"] == String(facts.size)
    }

    /// Writes every size of the thumbnail of `facts.uri` from `image`.
    public func write(from image: String, facts: ThumbnailFacts) throws {
        for size in ThumbnailSize.allCases {
            let folder = root + "/" + size.folderName
            try makeFolder(folder)
            try ThumbnailImage.write(from: image, size: size, facts: facts, to: path(forURI: facts.uri, size: size))
        }
    }

    /// Removes every size of the thumbnail of `uri`; a missing one is no error.
    public func remove(uri: String) {
        for size in ThumbnailSize.allCases { unlink(path(forURI: uri, size: size)) }
    }

    /// The folder and the ones above it up to the cache's, 0700 as the standard asks (a cache
    /// folder that exists already keeps its mode).
    private func makeFolder(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ThumbnailError.cannotWrite(path, "\(error)")
        }
    }
}
