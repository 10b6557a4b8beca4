import CFuse3

/// Kernel capabilities, as `FUSE_CAP_*` bits.
public struct FUSECapabilities: OptionSet, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let asyncRead = FUSECapabilities(rawValue: UInt32(FUSE_CAP_ASYNC_READ))
    public static let exportSupport = FUSECapabilities(rawValue: UInt32(FUSE_CAP_EXPORT_SUPPORT))
    public static let spliceWrite = FUSECapabilities(rawValue: UInt32(FUSE_CAP_SPLICE_WRITE))
    public static let spliceMove = FUSECapabilities(rawValue: UInt32(FUSE_CAP_SPLICE_MOVE))
    public static let spliceRead = FUSECapabilities(rawValue: UInt32(FUSE_CAP_SPLICE_READ))
    public static let autoInvalidateData = FUSECapabilities(rawValue: UInt32(FUSE_CAP_AUTO_INVAL_DATA))
    public static let readdirPlus = FUSECapabilities(rawValue: UInt32(FUSE_CAP_READDIRPLUS))
    public static let readdirPlusAuto = FUSECapabilities(rawValue: UInt32(FUSE_CAP_READDIRPLUS_AUTO))
    public static let parallelDirectoryOps = FUSECapabilities(rawValue: UInt32(FUSE_CAP_PARALLEL_DIROPS))
    public static let explicitInvalidateData = FUSECapabilities(rawValue: UInt32(FUSE_CAP_EXPLICIT_INVAL_DATA))
    /// Direct I/O reads sent as asynchronous requests. The kernel waits for those without
    /// sending INTERRUPT when the caller gets a signal.
    public static let asyncDirectIO = FUSECapabilities(rawValue: UInt32(FUSE_CAP_ASYNC_DIO))
    public static let cacheSymlinks = FUSECapabilities(rawValue: UInt32(FUSE_CAP_CACHE_SYMLINKS))
}

/// The connection settings negotiated in `init`: what the kernel can do and what we want.
public struct ConnectionSettings: Sendable {
    public var protocolMajor: UInt32
    public var protocolMinor: UInt32
    /// What the kernel supports.
    public var capable: FUSECapabilities
    /// What this filesystem asks for (a subset of `capable`).
    public var want: FUSECapabilities
    public var maxRead: UInt32
    public var maxReadahead: UInt32
    public var maxBackground: UInt32
    public var congestionThreshold: UInt32
    public var timeGranularity: UInt32

    init(_ conn: fuse_conn_info) {
        protocolMajor = conn.proto_major
        protocolMinor = conn.proto_minor
        capable = FUSECapabilities(rawValue: conn.capable)
        want = FUSECapabilities(rawValue: conn.want)
        maxRead = conn.max_read
        maxReadahead = conn.max_readahead
        maxBackground = conn.max_background
        congestionThreshold = conn.congestion_threshold
        timeGranularity = conn.time_gran
    }

    func apply(to conn: inout fuse_conn_info) {
        conn.want = want.intersection(capable).rawValue
        conn.max_read = maxRead
        conn.max_readahead = maxReadahead
        conn.max_background = maxBackground
        conn.congestion_threshold = congestionThreshold
        conn.time_gran = timeGranularity
    }
}
