import Foundation
import Glibc
import Synchronization

/// A thread of its own, at the lowest nice level (19), for CPU-heavy work nobody waits on:
/// decoding covers and encoding desktop thumbnails. Run on Swift's global pool, that work would
/// hold one of its few threads (one per core) for tens of milliseconds at a time, and the tasks
/// that bring a reader's bytes in run on that pool too; here it takes the CPU only when the
/// mount's other threads leave it, and never starves (nice 19 still runs on a busy machine).
final class LowPriorityThread: Sendable {
    /// The jobs, shared by the handle and the thread (which must not keep the handle alive). Each
    /// job queued signals once, and so does the handle's end: a wake that finds no job is the end.
    private final class Queue: Sendable {
        let jobs = Mutex<[@Sendable () -> Void]>([])
        let wake = DispatchSemaphore(value: 0)

        /// The next job, or nil once the handle is gone and every job before that has run.
        func next() -> (@Sendable () -> Void)? {
            wake.wait()
            return jobs.withLock { $0.isEmpty ? nil : $0.removeFirst() }
        }
    }

    private let queue = Queue()

    /// `name` shows in `top -H` and `ps -L`: at most 15 bytes, as Linux keeps them.
    init(name: String) {
        let thread = Thread { [queue] in
            // Linux keeps a nice level per thread, and "0" names the calling one: this one alone is
            // lowered. Raising a nice level needs no privilege, so this does not fail; if it did,
            // the work would only run at the mount's own priority.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
            while let job = queue.next() { job() }
        }
        thread.name = name
        thread.start()
    }

    deinit {
        queue.wake.signal()
    }

    /// Runs `body` on the thread, after the work queued before it, and returns what it returns.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.jobs.withLock { $0.append { continuation.resume(with: Result { try body() }) } }
            queue.wake.signal()
        }
    }

    /// The nice level of the calling thread (0 for most; 19 inside ``run(_:)``), nil if it
    /// cannot be read (-1 is a level too, so errno tells a failure apart).
    static func currentNiceLevel() -> Int32? {
        errno = 0
        let level = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        return level == -1 && errno != 0 ? nil : level
    }
}
