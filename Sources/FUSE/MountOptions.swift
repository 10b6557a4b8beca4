/// How to mount: the `-o` options the kernel and libfuse see, and how the loop runs.
public struct MountOptions: Sendable, Equatable {
    /// Shown as the source in `mount` and `df`.
    public var fsName: String
    /// Shown as `fuse.<subtype>` in `mount`.
    public var subtype: String?
    public var readOnly: Bool
    /// Let other users see the mount (needs root or `user_allow_other` in /etc/fuse.conf).
    public var allowOther: Bool
    /// Let the kernel check permissions from the mode bits, instead of the filesystem.
    public var defaultPermissions: Bool
    /// Largest read request, in bytes. Set both as `-o max_read` and in `init`: libfuse fails INIT
    /// with EPROTO when only the option is given.
    public var maxRead: UInt32?
    /// Have a helper unmount the filesystem if this process dies.
    public var autoUnmount: Bool
    /// Answer `ReadReply.fileRange` with splice when the kernel allows it. Off by default: under
    /// heavy load a spliced reply was seen to leave its read unanswered. Without splice, libfuse
    /// still serves the range from the descriptor in C, with no copy through Swift.
    public var spliceReplies: Bool
    /// Most loop threads libfuse starts (it starts more as requests queue up).
    public var maxThreads: Int?
    /// Idle loop threads kept. libfuse's own default is used when `nil`.
    public var maxIdleThreads: Int?
    /// Threads that run operations. They are held only by blocking calls inside operations;
    /// awaiting I/O holds none.
    public var operationThreads: Int
    /// Any other `-o` options, passed as they are (e.g. `uid=1000`, `umask=022`).
    public var extraOptions: [String]
    /// Log every request libfuse receives.
    public var debug: Bool

    public init(
        fsName: String = "mavifs", subtype: String? = nil, readOnly: Bool = false, allowOther: Bool = false,
        defaultPermissions: Bool = false, maxRead: UInt32? = nil, autoUnmount: Bool = false, spliceReplies: Bool = false,
        maxThreads: Int? = nil, maxIdleThreads: Int? = nil, operationThreads: Int = 4, extraOptions: [String] = [], debug: Bool = false
    ) {
        self.operationThreads = operationThreads
        self.fsName = fsName
        self.subtype = subtype
        self.readOnly = readOnly
        self.allowOther = allowOther
        self.defaultPermissions = defaultPermissions
        self.maxRead = maxRead
        self.autoUnmount = autoUnmount
        self.spliceReplies = spliceReplies
        self.maxThreads = maxThreads
        self.maxIdleThreads = maxIdleThreads
        self.extraOptions = extraOptions
        self.debug = debug
    }

    /// The argument vector for `fuse_session_new`.
    var arguments: [String] {
        var o = ["fsname=\(Self.escape(fsName))"]
        if let subtype { o.append("subtype=\(Self.escape(subtype))") }
        if readOnly { o.append("ro") }
        if allowOther { o.append("allow_other") }
        if defaultPermissions { o.append("default_permissions") }
        if let maxRead { o.append("max_read=\(maxRead)") }
        if autoUnmount { o.append("auto_unmount") }
        o += extraOptions.map(Self.escape)
        var args = ["mavifs", "-o", o.joined(separator: ",")]
        if debug { args.append("-d") }
        return args
    }

    /// libfuse splits `-o` on commas; a backslash escapes a comma or a backslash.
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ",", with: "\\,")
    }
}

private extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Substring(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
