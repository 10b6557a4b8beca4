import FUSE
import MaviLibrary

/// What folders need to know of subtitle sidecars to list them, by inode, so that listing a folder
/// of a million videos looks nothing up per sidecar: the size of each one fetched, and the speech
/// sidecars known not to exist. A speech sidecar shows until it is known not to exist; captions
/// show only once fetched (so their absence needs no record).
struct SidecarFacts: Sendable {
    private var sizes: [Inode: UInt64] = [:]
    private var absent = Set<Inode>()

    mutating func learned(_ state: SubtitleState, _ kind: SubtitleKind, inode: Inode) {
        switch state {
        case .present(let bytes): sizes[inode] = UInt64(bytes)
        case .absent: if kind == .speech { absent.insert(inode) }
        case .unknown: break
        }
    }

    /// The size a folder lists the sidecar with, or nil when folders do not show it.
    func listedSize(_ inode: Inode, _ kind: SubtitleKind) -> UInt64? {
        if let size = sizes[inode] { return size }
        return kind == .speech && !absent.contains(inode) ? 0 : nil
    }
}
