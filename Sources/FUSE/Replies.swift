import CFuse3
import Glibc

/// The answer to `lookup` (and each `readdirplus` entry): the inode, its attributes, and how long
/// the kernel may cache the name and the attributes.
public struct Entry: Sendable, Equatable {
    public var attributes: FileAttributes
    public var generation: UInt64
    /// Seconds the kernel may keep the name → inode mapping without asking again.
    public var entryTimeout: Double
    /// Seconds the kernel may keep the attributes without asking again.
    public var attributeTimeout: Double

    public init(attributes: FileAttributes, generation: UInt64 = 0, entryTimeout: Double, attributeTimeout: Double) {
        self.attributes = attributes
        self.generation = generation
        self.entryTimeout = entryTimeout
        self.attributeTimeout = attributeTimeout
    }

    /// A negative entry: the name does not exist, and the kernel may remember that for `timeout`.
    public static func negative(timeout: Double) -> Entry {
        Entry(
            attributes: FileAttributes(inode: 0, kind: .regular, permissions: 0, modificationTime: Timestamp(seconds: 0)),
            entryTimeout: timeout, attributeTimeout: 0)
    }

    var param: fuse_entry_param {
        var e = fuse_entry_param()
        e.ino = attributes.inode
        e.generation = generation
        e.attr = attributes.stat
        e.entry_timeout = entryTimeout
        e.attr_timeout = attributeTimeout
        return e
    }
}

/// The answer to `getattr`.
public struct AttributesReply: Sendable, Equatable {
    public var attributes: FileAttributes
    public var timeout: Double

    public init(attributes: FileAttributes, timeout: Double) {
        self.attributes = attributes
        self.timeout = timeout
    }
}

/// The answer to `open` and `opendir`.
public struct OpenReply: Sendable, Equatable {
    /// An opaque handle the filesystem gets back with every later call on this open file.
    public var handle: UInt64
    /// Bypass the kernel page cache: every read reaches the filesystem, sized as the reader asked.
    public var directIO: Bool
    /// Keep pages cached from earlier opens instead of dropping them on this open.
    public var keepCache: Bool
    public var nonSeekable: Bool
    /// For directories: let the kernel cache the entries returned by readdir.
    public var cacheDirectory: Bool

    public init(handle: UInt64 = 0, directIO: Bool = false, keepCache: Bool = false, nonSeekable: Bool = false, cacheDirectory: Bool = false) {
        self.handle = handle
        self.directIO = directIO
        self.keepCache = keepCache
        self.nonSeekable = nonSeekable
        self.cacheDirectory = cacheDirectory
    }
}

/// The answer to `read`.
public enum ReadReply: Sendable {
    /// Bytes in memory. Fewer bytes than asked means end of file.
    case bytes([UInt8])
    /// A range of an open file descriptor, handed to the kernel without copying it through Swift
    /// (spliced when the kernel allows). The descriptor must stay open until the reply is sent, and
    /// the range must exist in the file.
    case fileRange(descriptor: Int32, offset: Int64, length: Int)
    /// A `fileRange` whose bytes need to stay in place only until the kernel has them: `sent`
    /// runs once the reply is written, or found to be no longer wanted (the request was
    /// interrupted and answered already).
    case fileRangeUntilSent(descriptor: Int32, offset: Int64, length: Int, sent: @Sendable () -> Void)

    public static let endOfFile = ReadReply.bytes([])
}

/// The answer to `statfs`.
public struct FileSystemStatistics: Sendable, Equatable {
    public var blockSize: UInt
    public var totalBlocks: UInt64
    public var freeBlocks: UInt64
    public var availableBlocks: UInt64
    public var totalFiles: UInt64
    public var freeFiles: UInt64
    public var maximumNameLength: UInt

    public init(blockSize: UInt = 4096, totalBlocks: UInt64 = 0, freeBlocks: UInt64 = 0, availableBlocks: UInt64 = 0,
                totalFiles: UInt64 = 0, freeFiles: UInt64 = 0, maximumNameLength: UInt = 255) {
        self.blockSize = blockSize
        self.totalBlocks = totalBlocks
        self.freeBlocks = freeBlocks
        self.availableBlocks = availableBlocks
        self.totalFiles = totalFiles
        self.freeFiles = freeFiles
        self.maximumNameLength = maximumNameLength
    }

    var statvfs: statvfs {
        var s = Glibc.statvfs()
        s.f_bsize = blockSize
        s.f_frsize = blockSize
        s.f_blocks = UInt(totalBlocks)
        s.f_bfree = UInt(freeBlocks)
        s.f_bavail = UInt(availableBlocks)
        s.f_files = UInt(totalFiles)
        s.f_ffree = UInt(freeFiles)
        s.f_favail = UInt(freeFiles)
        s.f_namemax = maximumNameLength
        return s
    }
}

/// Who made a request.
public struct RequestContext: Sendable, Equatable {
    public var uid: uid_t
    public var gid: gid_t
    public var pid: pid_t

    public init(uid: uid_t, gid: gid_t, pid: pid_t) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
    }
}

/// An open file as the kernel describes it to `open`, `read` and `release`.
public struct OpenFile: Sendable, Equatable {
    /// The handle returned by `open`/`opendir`.
    public var handle: UInt64
    /// `open(2)` flags.
    public var flags: Int32

    public init(handle: UInt64, flags: Int32) {
        self.handle = handle
        self.flags = flags
    }
}
