import Glibc

public typealias Inode = UInt64

/// The root directory's inode number, fixed by the FUSE protocol.
public let rootInode: Inode = 1

/// What kind of node an inode is.
public enum FileKind: Sendable, Equatable {
    case regular
    case directory
    case symlink

    var typeBits: mode_t {
        switch self {
        case .regular: S_IFREG
        case .directory: S_IFDIR
        case .symlink: S_IFLNK
        }
    }

    /// The `d_type`-style bits readdir wants in `st_mode`.
    var direntMode: mode_t { typeBits }
}

/// A point in time with nanosecond precision, as `stat` carries it.
public struct Timestamp: Sendable, Equatable, Comparable {
    public var seconds: Int
    public var nanoseconds: Int

    public init(seconds: Int, nanoseconds: Int = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public init(milliseconds: Int64) {
        let (s, ms) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        if ms < 0 {
            self.init(seconds: Int(s) - 1, nanoseconds: Int(ms + 1000) * 1_000_000)
        } else {
            self.init(seconds: Int(s), nanoseconds: Int(ms) * 1_000_000)
        }
    }

    public static func now() -> Timestamp {
        var ts = Glibc.timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(seconds: ts.tv_sec, nanoseconds: ts.tv_nsec)
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }

    var timespec: timespec { Glibc.timespec(tv_sec: seconds, tv_nsec: nanoseconds) }
}

/// The attributes of an inode, as `stat(2)` reports them.
public struct FileAttributes: Sendable, Equatable {
    public var inode: Inode
    public var kind: FileKind
    /// Permission bits only (e.g. `0o444`); the type bits come from `kind`.
    public var permissions: mode_t
    public var size: UInt64
    public var linkCount: UInt32
    public var uid: uid_t
    public var gid: gid_t
    public var accessTime: Timestamp
    public var modificationTime: Timestamp
    public var changeTime: Timestamp
    /// The preferred I/O size reported to readers (`st_blksize`).
    public var blockSize: Int

    public init(
        inode: Inode, kind: FileKind, permissions: mode_t, size: UInt64 = 0, linkCount: UInt32 = 1,
        uid: uid_t = getuid(), gid: gid_t = getgid(), accessTime: Timestamp? = nil,
        modificationTime: Timestamp, changeTime: Timestamp? = nil, blockSize: Int = 1 << 20
    ) {
        self.inode = inode
        self.kind = kind
        self.permissions = permissions
        self.size = size
        self.linkCount = linkCount
        self.uid = uid
        self.gid = gid
        self.accessTime = accessTime ?? modificationTime
        self.modificationTime = modificationTime
        self.changeTime = changeTime ?? modificationTime
        self.blockSize = blockSize
    }

    var stat: stat {
        var st = Glibc.stat()
        st.st_ino = UInt(inode)
        st.st_mode = kind.typeBits | (permissions & 0o7777)
        st.st_nlink = UInt(linkCount)
        st.st_uid = uid
        st.st_gid = gid
        st.st_size = Int(clamping: size)
        st.st_blksize = blockSize
        // st_blocks counts 512-byte units; tools such as `du` read it.
        st.st_blocks = Int(clamping: (size + 511) / 512)
        st.st_atim = accessTime.timespec
        st.st_mtim = modificationTime.timespec
        st.st_ctim = changeTime.timespec
        return st
    }
}
