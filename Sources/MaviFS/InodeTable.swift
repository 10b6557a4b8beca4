import FUSE
import Synchronization

/// Inode numbers for the mount's directories and videos. A video has one inode whatever view it is
/// seen in, so the kernel's page cache of a file is shared by all its names. Numbers are never
/// reused while mounted.
final class InodeTable: Sendable {
    private struct State {
        var next: Inode = rootInode + 1
        var views: [View: Inode] = [.root: rootInode]
        var viewsByInode: [Inode: View] = [rootInode: .root]
        var videos: [String: Inode] = [:]
        var videosByInode: [Inode: String] = [:]
        var covers: [String: Inode] = [:]
        var coversByInode: [Inode: String] = [:]
    }

    private let state = Mutex(State())

    func inode(for view: View) -> Inode {
        state.withLock { s in
            if let i = s.views[view] { return i }
            let i = s.next
            s.next += 1
            s.views[view] = i
            s.viewsByInode[i] = view
            return i
        }
    }

    func inode(forVideo videoNo: String) -> Inode {
        inode(for: videoNo, in: \.videos, \.videosByInode)
    }

    /// The inodes of many videos under one lock, numbered on first sight.
    func inodes(forVideos videoNos: [String]) -> [Inode] {
        state.withLock { s in videoNos.map { Self.number($0, in: \.videos, \.videosByInode, of: &s) } }
    }

    /// The inode of a video's cover file in `.covers`.
    func inode(forCover videoNo: String) -> Inode {
        inode(for: videoNo, in: \.covers, \.coversByInode)
    }

    /// The inode of `videoNo` in one of the per-video tables, numbered on first sight.
    private func inode(
        for videoNo: String, in byName: WritableKeyPath<State, [String: Inode]>, _ byInode: WritableKeyPath<State, [Inode: String]>
    ) -> Inode {
        state.withLock { Self.number(videoNo, in: byName, byInode, of: &$0) }
    }

    private static func number(
        _ videoNo: String, in byName: WritableKeyPath<State, [String: Inode]>, _ byInode: WritableKeyPath<State, [Inode: String]>,
        of s: inout State
    ) -> Inode {
        if let i = s[keyPath: byName][videoNo] { return i }
        let i = s.next
        s.next += 1
        s[keyPath: byName][videoNo] = i
        s[keyPath: byInode][i] = videoNo
        return i
    }

    enum Node {
        case directory(View)
        case video(String)
        case cover(String)
    }

    func node(_ inode: Inode) -> Node? {
        state.withLock { s in
            if let v = s.viewsByInode[inode] { return .directory(v) }
            if let no = s.videosByInode[inode] { return .video(no) }
            if let no = s.coversByInode[inode] { return .cover(no) }
            return nil
        }
    }

    /// Every directory inode seen so far, with its view.
    var knownViews: [(View, Inode)] {
        state.withLock { s in s.views.map { ($0.key, $0.value) } }
    }
}
