import Foundation
import Synchronization

/// The threads that run a session's operations.
///
/// On Linux, Swift's global concurrency pool has about one thread per core. A filesystem whose
/// answers waited for that pool would stall whenever other code in the process blocks those
/// threads (a synchronous subprocess, a slow disk) — and a process that reads its own mount would
/// deadlock. Operations therefore run on threads of their own, as a task executor preference:
/// awaits inside an operation suspend without holding a thread, and resume here.
final class OperationExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` is only touched under `condition`'s lock.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var head = 0
    private var stopping = false
    private let threadCount: Int

    init(threads: Int, name: String) {
        threadCount = max(1, threads)
        for i in 0..<threadCount {
            let t = Thread { [self] in work() }
            t.name = "\(name)-\(i)"
            t.stackSize = 1 << 20
            t.start()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        if stopping {
            condition.unlock()
            // An operation finishing after its session ended: run it on a thread of its own so
            // its task completes and is freed.
            let executor = asUnownedTaskExecutor()
            Thread { job.runSynchronously(on: executor) }.start()
            return
        }
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Lets the threads finish once no job is left; jobs that arrive later get a thread each.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while head == jobs.count && !stopping { condition.wait() }
            if head == jobs.count && stopping {
                condition.unlock()
                return
            }
            let job = jobs[head]
            head += 1
            if head > 1024 && head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
