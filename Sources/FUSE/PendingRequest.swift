import CFuse3
import Glibc
import Synchronization

/// A kernel request waiting for its answer. Any thread may answer it; only the first answer is
/// sent, later ones are dropped, so "exactly once" holds even when a shutdown races an operation.
final class PendingRequest: @unchecked Sendable {
    // @unchecked: `raw` is only touched by the thread that wins `claim()`, and `task` is guarded.
    let raw: fuse_req_t
    let id: UInt64
    let context: RequestContext
    private let state = Atomic<UInt8>(State.pending)
    private let task = Mutex<(task: Task<Void, Never>?, cancelled: Bool)>((nil, false))

    private enum State {
        static let pending: UInt8 = 0
        static let replying: UInt8 = 1
        static let done: UInt8 = 2
    }

    init(_ raw: fuse_req_t, id: UInt64) {
        self.raw = raw
        self.id = id
        let ctx = fuse_req_ctx(raw)!.pointee
        self.context = RequestContext(uid: ctx.uid, gid: ctx.gid, pid: ctx.pid)
    }

    var isAnswered: Bool { state.load(ordering: .acquiring) != State.pending }

    /// Records the task answering this request, so a shutdown can cancel it.
    func attach(_ task: Task<Void, Never>) {
        let cancelled = self.task.withLock { state in
            state.task = task
            return state.cancelled
        }
        if cancelled { task.cancel() }
    }

    func cancel() {
        let task = self.task.withLock { state in
            state.cancelled = true
            return state.task
        }
        task?.cancel()
    }

    /// Takes the right to answer. Exactly one caller ever gets `true`.
    private func claim() -> Bool {
        state.compareExchange(expected: State.pending, desired: State.replying, ordering: .acquiringAndReleasing).exchanged
    }

    private func send(_ body: (fuse_req_t) -> Void) {
        guard claim() else { return }
        body(raw)
        state.store(State.done, ordering: .releasing)
    }

    /// Waits for an answer being sent by another thread to finish, so the session can be destroyed.
    func waitUntilSent() {
        while state.load(ordering: .acquiring) == State.replying { sched_yield() }
    }

    // MARK: Answers

    func reply(errno: Int32) {
        send { _ = fuse_reply_err($0, errno) }
    }

    func reply(error: any Error) {
        reply(errno: FUSEError.errno(for: error))
    }

    func replyNone() {
        send { fuse_reply_none($0) }
    }

    func reply(entry: Entry) {
        var e = entry.param
        send { _ = fuse_reply_entry($0, &e) }
    }

    func reply(attributes: AttributesReply) {
        var st = attributes.attributes.stat
        send { _ = fuse_reply_attr($0, &st, attributes.timeout) }
    }

    func reply(open: OpenReply, fileInfo: fuse_file_info) {
        var fi = fileInfo
        fi.apply(open)
        send { _ = fuse_reply_open($0, &fi) }
    }

    func reply(create entry: Entry, open: OpenReply, fileInfo: fuse_file_info) {
        var e = entry.param
        var fi = fileInfo
        fi.apply(open)
        send { _ = fuse_reply_create($0, &e, &fi) }
    }

    func reply(bytes: UnsafeRawBufferPointer) {
        send { _ = fuse_reply_buf($0, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count) }
    }

    func reply(read: ReadReply, splice: Bool) {
        switch read {
        case .bytes(let bytes):
            bytes.withUnsafeBytes { reply(bytes: $0) }
        case .fileRangeUntilSent(let fd, let offset, let length, let sent):
            defer { sent() }
            reply(read: .fileRange(descriptor: fd, offset: offset, length: length), splice: splice)
        case .fileRange(let fd, let offset, let length):
            var vec = fuse_bufvec()
            vec.count = 1
            vec.buf.size = length
            vec.buf.flags = fuse_buf_flags(rawValue: FUSE_BUF_IS_FD.rawValue | FUSE_BUF_FD_SEEK.rawValue)
            vec.buf.fd = fd
            vec.buf.pos = off_t(offset)
            // Without splice, libfuse reads the range into its own buffer in C: still no copy
            // through Swift.
            let flags = splice ? FUSE_BUF_SPLICE_MOVE : FUSE_BUF_NO_SPLICE
            send { _ = fuse_reply_data($0, &vec, flags) }
        }
    }

    func reply(directory: DirectoryBuffer) {
        directory.withBytes { reply(bytes: $0) }
    }

    func reply(statfs: FileSystemStatistics) {
        var s = statfs.statvfs
        send { _ = fuse_reply_statfs($0, &s) }
    }

    func reply(xattrSize: Int) {
        send { _ = fuse_reply_xattr($0, xattrSize) }
    }

    func reply(written: Int) {
        send { _ = fuse_reply_write($0, written) }
    }

    func reply(link: String) {
        send { raw in _ = link.withCString { fuse_reply_readlink(raw, $0) } }
    }

    /// Answers a `getxattr`/`listxattr` request, which asks the size first (size 0) and then the value.
    func reply(xattr value: [UInt8], requestedSize: Int) {
        if requestedSize == 0 {
            reply(xattrSize: value.count)
        } else if value.count > requestedSize {
            reply(errno: ERANGE)
        } else {
            value.withUnsafeBytes { reply(bytes: $0) }
        }
    }
}

extension fuse_file_info {
    mutating func apply(_ open: OpenReply) {
        fh = open.handle
        direct_io = open.directIO ? 1 : 0
        keep_cache = open.keepCache ? 1 : 0
        nonseekable = open.nonSeekable ? 1 : 0
        cache_readdir = open.cacheDirectory ? 1 : 0
    }

    var openFile: OpenFile { OpenFile(handle: fh, flags: flags) }
}
