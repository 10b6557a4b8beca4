import CFuse3
import Glibc
import Logging
import Synchronization

/// The state the C callbacks reach through `fuse_req_userdata`: the filesystem, and the requests
/// still waiting for an answer.
final class SessionCore: Sendable {
    let fileSystem: any FileSystemOperations
    let logger: Logger
    let options: MountOptions
    private let inFlight = Mutex<[UInt64: PendingRequest]>([:])
    private let nextID = Atomic<UInt64>(1)
    private let accepting = Atomic<Bool>(true)
    let executor: OperationExecutor
    /// Read once: the filesystem's answer cannot change while mounted.
    let extendedAttributeNames: ExtendedAttributeNames?

    init(fileSystem: any FileSystemOperations, options: MountOptions, logger: Logger) {
        self.fileSystem = fileSystem
        self.extendedAttributeNames = fileSystem.extendedAttributePrefixes.map(ExtendedAttributeNames.init(servedPrefixes:))
        self.options = options
        self.logger = logger
        self.executor = OperationExecutor(threads: options.operationThreads, name: "mavifs-op")
    }

    static func from(_ req: fuse_req_t) -> SessionCore {
        Unmanaged<SessionCore>.fromOpaque(fuse_req_userdata(req)!).takeUnretainedValue()
    }

    static func from(userdata: UnsafeMutableRawPointer?) -> SessionCore {
        Unmanaged<SessionCore>.fromOpaque(userdata!).takeUnretainedValue()
    }

    var pendingCount: Int { inFlight.withLock { $0.count } }

    /// Runs `body` in a new task, so the loop thread that received the request returns at once.
    /// Whatever `body` does, the request is answered exactly once: by `body`, with the errno of what
    /// it threw, or with `EIO` if it returned without answering.
    func spawn(_ raw: fuse_req_t, _ operation: StaticString, _ body: @escaping @Sendable (PendingRequest, any FileSystemOperations) async throws -> Void) {
        let request = PendingRequest(raw, id: nextID.wrappingAdd(1, ordering: .relaxed).oldValue)
        guard accepting.load(ordering: .acquiring) else {
            request.reply(errno: ENOTCONN)
            return
        }
        let fs = fileSystem
        let logger = logger
        inFlight.withLock { $0[request.id] = request }
        request.attach(Task(executorPreference: executor) {
            do {
                try await body(request, fs)
            } catch {
                if !(error is FUSEError) && !(error is CancellationError) && !(error is any ErrnoConvertible) {
                    logger.error("\(operation) failed: \(error)")
                }
                request.reply(error: error)
            }
            if !request.isAnswered {
                logger.error("\(operation) returned without answering; answering EIO")
                request.reply(errno: EIO)
            }
            self.inFlight.withLock { _ = $0.removeValue(forKey: request.id) }
        })
    }

    /// Stops taking requests, cancels the ones in flight, waits up to `timeout` seconds for their
    /// answers, and answers what is left with `errno`. After this no reply reaches libfuse, so the
    /// session can be destroyed.
    func drain(timeout: Double, errno: Int32 = EIO) {
        accepting.store(false, ordering: .releasing)
        let pending = inFlight.withLock { Array($0.values) }
        pending.forEach { $0.cancel() }
        let deadline = Monotonic.now + timeout
        while pendingCount > 0 && Monotonic.now < deadline {
            usleep(5_000)
        }
        let left = inFlight.withLock { Array($0.values) }
        if !left.isEmpty {
            logger.warning("answering \(left.count) unfinished request(s) with an error before unmounting")
        }
        for request in left {
            request.reply(errno: errno)
            request.waitUntilSent()
        }
    }

    func initialize(_ conn: UnsafeMutablePointer<fuse_conn_info>) {
        var settings = ConnectionSettings(conn.pointee)
        if options.spliceReplies {
            settings.want.insert(.spliceWrite)
        }
        settings.want.insert([.asyncRead, .parallelDirectoryOps])
        if let maxRead = options.maxRead {
            // `-o max_read` alone makes INIT fail with EPROTO: the negotiated value must match.
            settings.maxRead = maxRead
        }
        fileSystem.initialize(&settings)
        settings.apply(to: &conn.pointee)
    }
}

/// Seconds on the monotonic clock.
enum Monotonic {
    static var now: Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
