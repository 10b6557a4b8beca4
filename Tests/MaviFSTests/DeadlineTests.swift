@testable import MaviFS
import Synchronization
import Testing

/// A read's deadline, and the queue that moves it: a read waiting for its download's turn under
/// the rate limit is not stalled.
@Suite("Read deadlines", .timeLimit(.minutes(2)))
struct DeadlineTests {
    @Test("a deadline does not expire while the operation waits in a moving queue, and expires once it no longer does")
    func postponedWhileQueued() async throws {
        let queued = Mutex(true)
        let ended = Mutex(false)
        let start = ContinuousClock.now
        let race = Task {
            defer { ended.withLock { $0 = true } }
            return try await Deadlines.racing(
                until: start + .milliseconds(200), postponedBy: .milliseconds(200), while: { queued.withLock { $0 } }
            ) {
                try await Task.sleep(for: .seconds(3600))
                return 1
            }
        }
        // Many times the deadline later, the wait goes on.
        try await Task.sleep(for: .seconds(2))
        #expect(!ended.withLock { $0 })

        queued.withLock { $0 = false }
        await #expect(throws: DeadlineExpired.self) { try await race.value }
        #expect(ContinuousClock.now - start >= .seconds(2))
    }

    @Test("without a queue the deadline expires on time, and a quick operation wins")
    func plainDeadline() async throws {
        await #expect(throws: DeadlineExpired.self) {
            try await Deadlines.racing(until: .now + .milliseconds(100), postponedBy: .seconds(1), while: { false }) {
                try await Task.sleep(for: .seconds(3600))
                return 1
            }
        }
        let value = try await Deadlines.racing(until: .now + .seconds(60), postponedBy: .seconds(1), while: { true }) { 7 }
        #expect(value == 7)
    }
}
