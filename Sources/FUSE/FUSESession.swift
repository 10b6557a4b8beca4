import CFuse3
import Dispatch
import Foundation
import Glibc
import Logging
import Synchronization

/// A mounted filesystem: the libfuse session, its multi-threaded loop, and the way out.
///
/// ```swift
/// let session = try FUSESession(mounting: fs, at: "/mnt/x", options: MountOptions())
/// session.start()
/// let status = await session.waitUntilUnmounted()   // returns after `fusermount3 -u`, a signal, or `unmount()`
/// ```
///
/// When the loop ends, requests still in flight are cancelled and answered before the session is
/// destroyed, so no reply ever reaches a destroyed session.
public final class FUSESession: Sendable {
    public let mountpoint: String
    let core: SessionCore
    private let handle: SessionHandle
    private let notifications = DispatchQueue(label: "mavifs.fuse.notifications")
    private let loopDone = LoopCompletion()
    private let state = Mutex<LifecycleState>(.mounted)
    private let logger: Logger

    private enum LifecycleState { case mounted, running, unmounting, finished }

    /// Creates the session and mounts it. The mount answers no request until `start()`.
    public init(mounting fileSystem: any FileSystemOperations, at mountpoint: String, options: MountOptions = MountOptions(), logger: Logger = Logger(label: "mavifs.fuse")) throws {
        LibfuseLog.install(logger)
        // Resolved before mounting: once mounted, touching the path would ask this very session.
        let mountpoint = MountPath.canonical(mountpoint)
        self.mountpoint = mountpoint
        self.logger = logger
        let core = SessionCore(fileSystem: fileSystem, options: options, logger: logger)
        self.core = core
        var ops = LowLevelOperations.table()
        let userdata = Unmanaged.passRetained(core)
        let session: OpaquePointer? = FUSEArguments.with(options.arguments) { args in
            fuse_session_new(args, &ops, MemoryLayout<fuse_lowlevel_ops>.size, userdata.toOpaque())
        }
        guard let session else {
            userdata.release()
            throw MountError.sessionFailed(options: options.arguments.joined(separator: " "))
        }
        guard fuse_session_mount(session, mountpoint) == 0 else {
            fuse_session_destroy(session)
            userdata.release()
            throw MountError.mountFailed(mountpoint: mountpoint, errno: errno)
        }
        self.handle = SessionHandle(session: session, userdata: userdata, connection: ConnectionControl.find(mountpoint: mountpoint))
    }

    /// Starts the multi-threaded loop on its own threads and returns.
    public func start() {
        let go = state.withLock { s -> Bool in
            guard s == .mounted else { return false }
            s = .running
            return true
        }
        guard go else { return }
        let options = core.options
        let handle = handle
        let done = loopDone
        let thread = Thread { [self] in
            let config = fuse_loop_cfg_create()!
            defer { fuse_loop_cfg_destroy(config) }
            fuse_loop_cfg_set_clone_fd(config, 0)
            if let max = options.maxThreads { fuse_loop_cfg_set_max_threads(config, UInt32(max)) }
            // Only set when given: libfuse's "unset" value is UINT_MAX, which it rejects if passed back.
            if let idle = options.maxIdleThreads { fuse_loop_cfg_set_idle_threads(config, UInt32(idle)) }
            let status = fuse_session_loop_mt(handle.session, config)
            finish(status: status)
            done.complete(status)
        }
        thread.name = "mavifs-fuse-loop"
        thread.start()
    }

    /// Waits until the loop has ended and the session is destroyed. Returns libfuse's status:
    /// 0 after an unmount, the signal number after a libfuse-handled signal, negative on error.
    @discardableResult
    public func waitUntilUnmounted() async -> Int32 {
        await loopDone.wait()
    }

    /// Unmounts and waits for the loop to end. Open files elsewhere keep a lazily-detached mount
    /// alive; after `timeout` seconds the connection is aborted, so their requests fail with
    /// `ENOTCONN` instead of keeping this waiting.
    public func unmount(timeout: Double = 5) async {
        requestUnmount(grace: timeout)
        if await loopDone.wait(timeout: timeout + 10) == nil {
            logger.error("the FUSE loop for \(mountpoint) did not end after the connection was aborted")
        }
    }

    /// Detaches the mount and returns at once. The loop keeps answering requests (files still open
    /// elsewhere go on working) until the kernel ends the connection when nothing uses the mount
    /// any more, or until `grace` seconds have passed, when the connection is aborted.
    ///
    /// The loop is never told to stop by itself: a loop that stops reading while the connection
    /// lives would leave every later request on it, a close() included, waiting forever.
    public func requestUnmount(grace: Double = 5) {
        let previous = state.withLock { s -> LifecycleState in
            let previous = s
            if s == .mounted || s == .running { s = .unmounting }
            return previous
        }
        switch previous {
        case .running:
            handle.detached.store(true, ordering: .releasing)
            Unmounter.detach(mountpoint, logger: logger)
            let done = loopDone
            let handle = handle
            let logger = logger
            let mountpoint = mountpoint
            Thread {
                let deadline = Monotonic.now + grace
                while !done.isComplete && Monotonic.now < deadline { usleep(10_000) }
                guard !done.isComplete else { return }
                logger.warning("\(mountpoint) still in use \(grace)s after unmounting; aborting its FUSE connection")
                if let connection = handle.connection {
                    connection.abort()
                } else {
                    fuse_session_exit(handle.session)
                }
            }.start()
        case .mounted:
            // Mounted but never started: no loop runs, so tear down here.
            handle.detached.store(true, ordering: .releasing)
            Unmounter.detach(mountpoint, logger: logger)
            finish(status: 0)
            loopDone.complete(0)
        case .unmounting, .finished:
            return
        }
    }

    /// Drains in-flight requests, unmounts and destroys the session. Runs once, on the loop thread.
    private func finish(status: Int32) {
        guard handle.finished.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        // After an abort the loop ends with -ENODEV; only an end nobody asked for is an error.
        if status < 0 && !handle.detached.load(ordering: .acquiring) {
            logger.error("FUSE loop ended with error \(status)")
        }
        core.drain(timeout: 2)
        handle.notificationsClosed.store(true, ordering: .releasing)
        notifications.sync {}
        if !handle.detached.load(ordering: .acquiring) {
            // Unmounted from outside, or the loop failed: let libfuse unmount if still mounted.
            fuse_session_unmount(handle.session)
        }
        fuse_session_destroy(handle.session)
        core.executor.shutdown()
        handle.userdata.release()
        state.withLock { $0 = .finished }
    }

    // MARK: Kernel cache invalidation

    /// Tells the kernel to forget `name` in `parent` (its dentry), so the next access looks it up
    /// again. Asynchronous: sent from a dedicated queue, never from a request's own thread, because
    /// the kernel may hold the directory lock while waiting for one of our replies.
    public func invalidateEntry(parent: Inode, name: String) {
        notify { se in name.withCString { fuse_lowlevel_notify_inval_entry(se, parent, $0, strlen($0)) } }
    }

    /// Tells the kernel to drop cached data of `inode` from `offset` for `length` bytes (0 = to the
    /// end) and its attributes. A negative `offset` drops only the attributes.
    public func invalidateInode(_ inode: Inode, offset: Int64 = 0, length: Int64 = 0) {
        notify { se in fuse_lowlevel_notify_inval_inode(se, inode, off_t(offset), off_t(length)) }
    }

    /// Tells the kernel that `name` in `parent`, which was `child`, is gone (as if unlinked).
    public func notifyDelete(parent: Inode, child: Inode, name: String) {
        notify { se in name.withCString { fuse_lowlevel_notify_delete(se, parent, child, $0, strlen($0)) } }
    }

    /// Waits until every notification sent so far has been delivered.
    public func flushNotifications() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            notifications.async { c.resume() }
        }
    }

    private func notify(_ body: @escaping @Sendable (OpaquePointer) -> Int32) {
        let handle = handle
        let logger = logger
        notifications.async {
            guard !handle.notificationsClosed.load(ordering: .acquiring) else { return }
            let rc = body(handle.session)
            // ENOENT: the kernel had nothing cached, which is fine.
            if rc != 0 && rc != -ENOENT {
                logger.debug("kernel notification failed: \(String(cString: strerror(-rc)))")
            }
        }
    }

    // MARK: Signals

    /// Unmounts cleanly on SIGINT, SIGTERM and SIGHUP. For a process that owns one mount (the CLI);
    /// tests do not call it.
    public func unmountOnSignals(_ signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]) {
        for sig in signals {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in
                logger.info("signal \(sig): unmounting \(mountpoint)")
                requestUnmount()
            }
            source.resume()
            let retained = RetainedSignalSource(source: source)
            handle.signalSources.withLock { sources in sources.append(retained) }
        }
    }
}

/// The libfuse session pointer and what must outlive it.
final class SessionHandle: @unchecked Sendable {
    // @unchecked: the pointers are set once; libfuse's session functions used here are thread-safe.
    let session: OpaquePointer
    let userdata: Unmanaged<SessionCore>
    let connection: ConnectionControl?
    let finished = Atomic<Bool>(false)
    /// This process detached the mount itself, so libfuse must not try to unmount it again.
    let detached = Atomic<Bool>(false)
    let notificationsClosed = Atomic<Bool>(false)
    let signalSources = Mutex<[RetainedSignalSource]>([])

    init(session: OpaquePointer, userdata: Unmanaged<SessionCore>, connection: ConnectionControl?) {
        self.session = session
        self.userdata = userdata
        self.connection = connection
    }
}

public enum MountError: Error, CustomStringConvertible, Sendable {
    case sessionFailed(options: String)
    case mountFailed(mountpoint: String, errno: Int32)

    public var description: String {
        switch self {
        case .sessionFailed(let options):
            "could not create the FUSE session (options: \(options))"
        case .mountFailed(let mountpoint, let e):
            "could not mount at \(mountpoint): \(String(cString: strerror(e))) — is /dev/fuse available and the directory empty and not already mounted?"
        }
    }
}

/// Keeps a signal source alive for the session's lifetime. Dispatch sources are thread-safe.
struct RetainedSignalSource: @unchecked Sendable {
    let source: any DispatchSourceSignal
}
