import FUSE
import MaviLibrary
import Synchronization
import Thumbnails

/// Inode numbers for the mount's directories, videos and covers. A video has one inode whatever
/// view it is seen in, so the kernel's page cache of a file is shared by all its names. Numbers
/// are never reused while mounted.
///
/// Numbers come in threes: directories are numbered `3k + 1` as they are first seen (the root is
/// 1), and the video registered at position `p` is `3p + 2`, its cover `3p + 3`. So a video's
/// inode is worked out from its place in the registry, and no table maps inodes back.
final class InodeTable: Sendable {
    private struct State {
        var nextView: Inode = rootInode + 3
        var views: [View: Inode] = [.root: rootInode]
        var viewsByInode: [Inode: View] = [rootInode: .root]
        var videos = PackedStrings()
        var sharedThumbnails: [SharedThumbnail] = []
        var sharedThumbnailInodes: [SharedThumbnail: Inode] = [:]
    }

    /// A file of a shared thumbnail repository: one per video, size and kind of name (the same
    /// name in every view but `by-id`), numbered from ``sharedThumbnailBase`` on first sight.
    struct SharedThumbnail: Hashable, Sendable {
        var videoNo: String
        var size: ThumbnailSize
        var namedByID: Bool
    }

    /// Far above any directory or video number, so the threes below never reach it.
    static let sharedThumbnailBase: Inode = 1 << 60

    private let state = Mutex(State())

    func inode(for view: View) -> Inode {
        state.withLock { s in
            if let i = s.views[view] { return i }
            let i = s.nextView
            s.nextView += 3
            s.views[view] = i
            s.viewsByInode[i] = view
            return i
        }
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

    private static func videoInode(_ position: Int) -> Inode { 3 * Inode(position) + 2 }

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
    }

    func node(_ inode: Inode) -> Node? {
        state.withLock { s in
            if inode >= Self.sharedThumbnailBase {
                let k = inode - Self.sharedThumbnailBase
                return k < UInt64(s.sharedThumbnails.count) ? .sharedThumbnail(s.sharedThumbnails[Int(k)]) : nil
            }
            switch inode % 3 {
            case 1: return s.viewsByInode[inode].map(Node.directory)
            case 2: return s.videos.string(at: Int((inode - 2) / 3)).map(Node.video)
            default: return inode >= 3 ? s.videos.string(at: Int((inode - 3) / 3)).map(Node.cover) : nil
            }
        }
    }

    /// Every directory inode seen so far, with its view.
    var knownViews: [(View, Inode)] {
        state.withLock { s in s.views.map { ($0.key, $0.value) } }
    }
}
