import Foundation
import MaviAPI
@testable import MaviClient
import Synchronization
import Testing
import TestSupport

@Suite("Pacing", .timeLimit(.minutes(1)))
struct PacingTests {
    /// Sends one request's worth through the limiter: acquire, answer at once, release.
    private func pass(_ limiter: RateLimiter, onWait: (@Sendable (Duration) -> Void)? = nil) async throws {
        let permit = try await limiter.acquire(onWait: onWait)
        await limiter.release(permit)
    }

    /// Grants on a clock that moves only when every task is parked (sleeping on the clock,
    /// waiting for a release, or done), to the next sleeper's deadline: so each grant happens at
    /// the exact time the limiter chose, however slowly the tasks run.
    private func grantTimes(
        _ limiter: RateLimiter, on clock: ManualClock, tasks: Int, passesPerTask: Int = 1
    ) async throws -> [Duration] {
        let tally = GrantTally()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<tasks {
                group.addTask {
                    for _ in 0..<passesPerTask {
                        let permit = try await limiter.acquire()
                        tally.granted(at: clock.now.offset)
                        await limiter.release(permit)
                    }
                    tally.taskDone()
                }
            }
            while tally.tasksDone < tasks {
                let parked = clock.sleepers.count + (await limiter.waitingForRelease) + tally.tasksDone
                if parked == tasks, let next = clock.sleepers.first {
                    clock.advance(by: next)
                } else {
                    try await Task.sleep(for: .milliseconds(1))
                }
            }
            try await group.waitForAll()
        }
        return tally.grants.sorted()
    }

    /// `counts[i]` grants `i` windows after the start.
    private func waves(_ counts: [Int], window: Duration) -> [Duration] {
        counts.enumerated().flatMap { index, count in [Duration](repeating: window * index, count: count) }
    }

    private final class GrantTally: Sendable {
        private let state = Mutex<(grants: [Duration], done: Int)>(([], 0))
        func granted(at time: Duration) { state.withLock { $0.grants.append(time) } }
        func taskDone() { state.withLock { $0.done += 1 } }
        var grants: [Duration] { state.withLock { $0.grants } }
        var tasksDone: Int { state.withLock { $0.done } }
    }

    @Test("the limiter lets a burst through, then one window per burst, exactly")
    func limiterTiming() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(limit: RateLimit(requests: 10, perSeconds: 0.5), clock: TimeSource(clock))
        let grants = try await grantTimes(limiter, on: clock, tasks: 1, passesPerTask: 25)
        // 10 at once, 10 after one window, 5 after two.
        #expect(grants == waves([10, 10, 5], window: .milliseconds(500)))
    }

    @Test("concurrent waiters are all paced, none early and none late")
    func concurrentWaiters() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(limit: RateLimit(requests: 5, perSeconds: 0.2), clock: TimeSource(clock))
        let grants = try await grantTimes(limiter, on: clock, tasks: 15)
        #expect(grants == waves([5, 5, 5], window: .milliseconds(200)))
    }

    @Test("a request still under way holds its place until its answer arrives")
    func requestsUnderWay() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(limit: RateLimit(requests: 1, perSeconds: 0.1), clock: TimeSource(clock))
        let first = try await limiter.acquire()
        let second = Task {
            let permit = try await limiter.acquire()
            await limiter.release(permit)
            return clock.now.offset
        }
        try await waitUntil("the second request waits for the first") { await limiter.waitingForRelease == 1 }
        clock.advance(by: .milliseconds(300))
        #expect(clock.sleepers.isEmpty, "nothing sleeps while the first is under way")
        await limiter.release(first)
        // Not 0.1 s after the first was sent, but 0.1 s after its answer.
        try await clock.waitForSleepers()
        #expect(clock.sleepers == [.milliseconds(100)])
        clock.advance(by: .milliseconds(100))
        #expect(try await second.value == .milliseconds(400))
    }

    @Test("a request's window starts when its answer begins to arrive, not once the answer is read")
    func windowFromTheHead() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(limit: RateLimit(requests: 1, perSeconds: 0.1), clock: TimeSource(clock))
        let release = PacingRelease(limiter: limiter, permit: try await limiter.acquire())
        clock.advance(by: .milliseconds(50))
        // The answer's head arrives: the code reading it gives the permit back.
        await PacingRelease.$current.withValue(release) { await PacingRelease.current?.release() }
        clock.advance(by: .milliseconds(300))
        // The attempt ends after a long body: the permit was given back already.
        await release.release()
        let second = try await limiter.acquire()
        // Counted from the body's end (or given back a second time, there), the next request
        // would wait until 0.45 s.
        #expect(clock.now.offset == .milliseconds(350) && clock.sleepers.isEmpty, "granted at once")
        await limiter.release(second)
    }

    @Test("a waiter that is cancelled leaves the queue")
    func cancelledWaiter() async throws {
        let limiter = RateLimiter(limit: RateLimit(requests: 1, perSeconds: 0.05))
        let held = try await limiter.acquire()
        let waiter = Task { try await limiter.acquire() }
        try await waitUntil("the waiter queues") { await limiter.waitingForRelease == 1 }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { _ = try await waiter.value }
        try await waitUntil("the waiter has left the queue") { await limiter.waitingForRelease == 0 }
        await limiter.release(held)
        try await pass(limiter)
    }

    @Test("a waiter hears how long it waits, and a sleep that is cancelled gives its slot back")
    func waitCallback() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(limit: RateLimit(requests: 1, perSeconds: 0.3), clock: TimeSource(clock))
        try await pass(limiter) { _ in Issue.record("the first request must not wait") }
        clock.advance(by: .milliseconds(100))
        let heard = Mutex<Duration?>(nil)
        let second = Task { try await self.pass(limiter) { wait in heard.withLock { $0 = wait } } }
        try await clock.waitForSleepers()
        #expect(heard.withLock { $0 } == .milliseconds(200))
        second.cancel()
        await #expect(throws: CancellationError.self) { try await second.value }
        // The cancelled waiter sent nothing, so its slot is as it was: the next caller gets it
        // 0.3 s after the first answer, not 0.3 s after the cancellation.
        let third = Task { try await self.pass(limiter) }
        try await clock.waitForSleepers()
        #expect(clock.sleepers == [.milliseconds(200)])
        clock.advance(by: .milliseconds(200))
        try await third.value
    }

    @Test("list requests are paced at the configured rate, as the server sees them")
    func clientPacing() async throws {
        let server = ReplayServer()
        server.on(APIPath.listVideos, replies: [.json(Fixtures.listNumbers)])
        var pacing = Pacing.unlimited
        pacing[.listVideos] = RateLimit(requests: 20, perSeconds: 1)
        let started = ContinuousClock.now
        try await server.run { url in
            try await withTestClient(testConfiguration(url, pacing: pacing)) { client in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<45 { group.addTask { _ = try await client.listVideos() } }
                    try await group.waitForAll()
                }
            }
        }
        #expect(ContinuousClock.now - started >= .milliseconds(1_950))
        let arrivals = server.requests.map(\.arrival).sorted()
        #expect(arrivals.count == 45)
        // Requests are counted from their answers, so the server never sees more than 20 within
        // one second (measured loosely, as arrival times are taken after reading each body).
        for index in 20..<arrivals.count {
            #expect(arrivals[index] - arrivals[index - 20] >= .milliseconds(950))
        }
    }

    @Test("the documented limits are the defaults")
    func documentedDefaults() {
        let pacing = Pacing.documented
        #expect(pacing[.listVideos] == RateLimit(requests: 5, perSeconds: 1))
        #expect(pacing[.deleteVideos] == RateLimit(requests: 5, perSeconds: 1))
        #expect(pacing[.download] == RateLimit(requests: 1, perSeconds: 5), "12 a minute, spread")
        #expect(pacing[.object] == RateLimit(requests: 1, perSeconds: 5))
        #expect(pacing[.upload] == RateLimit(requests: 1, perSeconds: 60))
        #expect(pacing[.range] == nil)
        #expect(Pacing.unlimited.limits.isEmpty)
    }
}
