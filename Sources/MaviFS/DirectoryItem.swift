import FUSE

/// One name in a directory listing.
struct DirectoryItem: Sendable {
    var name: String
    var inode: Inode
    var kind: FileKind
    var entry: Entry
}
