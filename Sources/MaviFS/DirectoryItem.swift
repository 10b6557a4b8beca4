import FUSE

/// One name in a directory listing.
struct DirectoryItem: Sendable {
    var name: String
    var inode: Inode
    var kind: FileKind
    var entry: Entry
    /// Deleted since the directory's contents were made: kept in place so that every other
    /// item keeps its position (and the name index stays right), skipped when listed.
    var removed = false
}
