import FUSE

/// One name in a directory listing, as small as it can be kept: a folder of a million videos
/// holds a million of these. The reply to the kernel (``MaviFileSystem/entry(of:)``) is made from
/// it when asked.
struct DirectoryItem: Sendable {
    enum Role: Sendable, Equatable {
        case directory
        case video
        /// A cover file; until its size is known the kernel is told not to keep its attributes.
        case cover(sizeKnown: Bool)
        /// A file the mount writes itself (a playlist), whose bytes are known.
        case generated
        /// A subtitle sidecar; its size is what is known when asked (0 before it is fetched).
        case subtitle
    }

    var name: String
    var inode: Inode
    /// A file's size; a directory takes its own from the mount.
    var size: UInt64
    /// A file's times in milliseconds (``unknownTime`` when the listing has none: the mount's).
    private var modifiedMilliseconds: Int64
    private var changedMilliseconds: Int64
    var role: Role
    /// Deleted since the directory's contents were made: kept in place so that every other
    /// item keeps its position (and the name index stays right), skipped when listed.
    var removed = false

    private static let unknownTime = Int64.min

    init(name: String, inode: Inode, role: Role, size: UInt64 = 0, modified: Int64? = nil, changed: Int64? = nil) {
        self.name = name
        self.inode = inode
        self.role = role
        self.size = size
        modifiedMilliseconds = modified ?? Self.unknownTime
        changedMilliseconds = changed ?? Self.unknownTime
    }

    var modified: Timestamp? { Self.timestamp(modifiedMilliseconds) }
    /// The times as given, in milliseconds, for an item made after another (a sidecar after its video).
    var modifiedMillisecondsIfKnown: Int64? { modifiedMilliseconds == Self.unknownTime ? nil : modifiedMilliseconds }
    var changedMillisecondsIfKnown: Int64? { changedMilliseconds == Self.unknownTime ? nil : changedMilliseconds }
    var changed: Timestamp? { Self.timestamp(changedMilliseconds) }

    private static func timestamp(_ milliseconds: Int64) -> Timestamp? {
        milliseconds == unknownTime ? nil : Timestamp(milliseconds: milliseconds)
    }

    var kind: FileKind { role == .directory ? .directory : .regular }
}
