import Foundation
import Glibc
import Synchronization
@testable import MaviFS
import Testing

@Suite("The low-priority thread desktop thumbnails are encoded on", .timeLimit(.minutes(1)))
struct LowPriorityThreadTests {
    private struct Refused: Error, Equatable {}

    /// What the jobs saw: how many ran at once at most, on which threads.
    private final class Seen: Sendable {
        struct Counts { var running = 0, most = 0, done = 0, threads = Set<UInt>() }
        let counts = Mutex(Counts())
    }

    @Test("work runs at nice 19 on one thread of its own, one job at a time, with its result or error, never on the caller's thread")
    func runsLowInOrder() async throws {
        let worker = LowPriorityThread(name: "test-low")
        #expect(try await worker.run { LowPriorityThread.currentNiceLevel() } == 19)

        let caller = UInt(pthread_self())
        #expect(try await worker.run { UInt(pthread_self()) } != caller, "not the caller's thread")

        // Queued from many tasks at once, they run on that one thread, one at a time.
        let seen = Seen()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await worker.run {
                        seen.counts.withLock { $0.running += 1; $0.most = max($0.most, $0.running); $0.threads.insert(UInt(pthread_self())) }
                        usleep(1_000)
                        seen.counts.withLock { $0.running -= 1; $0.done += 1 }
                    }
                }
            }
            try await group.waitForAll()
        }
        let after = seen.counts.withLock { $0 }
        #expect(after.done == 20 && after.most == 1 && after.threads.count == 1, "\(after)")

        await #expect(throws: Refused.self) { try await worker.run { throw Refused() } }
        #expect(try await worker.run { 42 } == 42, "a job that threw leaves the thread working")
    }
}
