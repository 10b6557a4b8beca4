import FUSE
import MaviLibrary
import Synchronization
import Thumbnails

/// Inode numbers for the mount's directories, videos, covers and subtitle sidecars. A video has
/// one inode whatever view it is seen in, so the kernel's page cache of a file is shared by all
/// its names. Numbers are never reused while mounted.
///
/// Numbers come in fives: directories are numbered `5k + 1` as they are first seen (the root is
/// 1), and the video registered at position `p` is `5p + 2`, its cover `5p + 3`, its speech
/// sidecar `5p + 4` and its captions sidecar `5p + 5`. So a video's inodes are worked out from its
/// place in the registry, and no table maps inodes back.
final class InodeTable: Sendable {
    private struct State {
        var nextView: Inode = rootInode + InodeTable.stride
        var views: [View: Inode] = [.root: rootInode]
        var viewsByInode: [Inode: View] = [rootInode: .root]
        var videos = PackedStrings()
        var sharedThumbnails: [SharedThumbnail] = []
        var sharedThumbnailInodes: [SharedThumbnail: Inode] = [:]
        /// Generated files (playlists), numbered in the directories' sequence:
        /// there are few of them, and a video's own numbers stay worked out from its place.
        var files: [GeneratedFile: Inode] = [:]
        var filesByInode: [Inode: GeneratedFile] = [:]
    }

    /// Files the mount makes itself rather than lists.
    enum GeneratedFile: Hashable, Sendable {
        /// `hits.m3u` of a search folder.
        case playlist(SearchKey)
    }

    /// A file of a shared thumbnail repository: one per video, size and kind of name (the same
    /// name in every view but `by-id`), numbered from ``sharedThumbnailBase`` on first sight.
    struct SharedThumbnail: Hashable, Sendable {
        var videoNo: String
        var size: ThumbnailSize
        var namedByID: Bool
    }

    /// Far above any directory or video number, so the fives below never reach it.
    static let sharedThumbnailBase: Inode = 1 << 60

    private let state = Mutex(State())
    private static let stride: Inode = 5

    func inode(for view: View) -> Inode {
        state.withLock { s in Self.number(view, in: &s.views, &s.viewsByInode, next: &s.nextView) }
    }

    func inode(for file: GeneratedFile) -> Inode {
        state.withLock { s in Self.number(file, in: &s.files, &s.filesByInode, next: &s.nextView) }
    }

    /// The number of `key`, given from the directories' sequence on first sight.
    private static func number<Key: Hashable>(_ key: Key, in numbers: inout [Key: Inode], _ keys: inout [Inode: Key], next: inout Inode) -> Inode {
        if let i = numbers[key] { return i }
        let i = next
        next += stride
        numbers[key] = i
        keys[i] = key
        return i
    }

    func inode(forVideo videoNo: String) -> Inode {
        Self.videoInode(state.withLock { $0.videos.position(adding: videoNo) })
    }

    /// The inodes of many videos under one lock, numbered on first sight.
    func inodes(forVideos videoNos: some Collection<String>) -> [Inode] {
        state.withLock { s in videoNos.map { Self.videoInode(s.videos.position(adding: $0)) } }
    }

    /// The inode of a video's cover file in `.covers`.
    func inode(forCover videoNo: String) -> Inode {
        Self.videoInode(state.withLock { $0.videos.position(adding: videoNo) }) + 1
    }

    /// The inode of a video's subtitle sidecar of `kind`.
    func inode(forSubtitle kind: SubtitleKind, of videoNo: String) -> Inode {
        Self.videoInode(state.withLock { $0.videos.position(adding: videoNo) }) + Self.sidecarOffset(kind)
    }

    /// A sidecar's inode is its video's plus this.
    static func sidecarOffset(_ kind: SubtitleKind) -> Inode { kind == .speech ? 2 : 3 }

    private static func videoInode(_ position: Int) -> Inode { stride * Inode(position) + 2 }

    func inode(forSharedThumbnail key: SharedThumbnail) -> Inode {
        state.withLock { s in
            if let inode = s.sharedThumbnailInodes[key] { return inode }
            let inode = Self.sharedThumbnailBase + Inode(s.sharedThumbnails.count)
            s.sharedThumbnails.append(key)
            s.sharedThumbnailInodes[key] = inode
            return inode
        }
    }

    enum Node: Equatable {
        case directory(View)
        case video(String)
        case cover(String)
        case sharedThumbnail(SharedThumbnail)
        case generated(GeneratedFile)
        case subtitle(String, SubtitleKind)
    }

    func node(_ inode: Inode) -> Node? {
        state.withLock { s in
            if inode >= Self.sharedThumbnailBase {
                let k = inode - Self.sharedThumbnailBase
                return k < UInt64(s.sharedThumbnails.count) ? .sharedThumbnail(s.sharedThumbnails[Int(k)]) : nil
            }
            let videos = s.videos
            func video(_ offset: Inode) -> String? { inode >= offset ? videos.string(at: Int((inode - offset) / Self.stride)) : nil }
            switch inode % Self.stride {
            case 1: return s.viewsByInode[inode].map(Node.directory) ?? s.filesByInode[inode].map(Node.generated)
            case 2: return video(2).map(Node.video)
            case 3: return video(3).map(Node.cover)
            case 4: return video(4).map { Node.subtitle($0, .speech) }
            default: return video(5).map { Node.subtitle($0, .captions) }
            }
        }
    }

    /// Every directory inode seen so far, with its view.
    var knownViews: [(View, Inode)] {
        state.withLock { s in s.views.map { ($0.key, $0.value) } }
    }
}
