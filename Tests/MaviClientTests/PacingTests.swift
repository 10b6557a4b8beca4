import Foundation
import MaviAPI
@testable import MaviClient
import Synchronization
import Testing

@Suite("Pacing", .timeLimit(.minutes(1)))
struct PacingTests {
    /// Sends one request's worth through the limiter: acquire, answer at once, release.
    private func pass(_ limiter: RateLimiter, onWait: (@Sendable (Duration) -> Void)? = nil) async throws {
        let permit = try await limiter.acquire(onWait: onWait)
        await limiter.release(permit)
    }

    @Test("the limiter lets a burst through, then one window per burst")
    func limiterTiming() async throws {
        let limiter = RateLimiter(limit: RateLimit(requests: 10, perSeconds: 0.5))
        let started = ContinuousClock.now
        var grants: [Duration] = []
        for _ in 0..<25 {
            try await pass(limiter)
            grants.append(ContinuousClock.now - started)
        }
        // 10 at once, 10 after one window, 5 after two: a grant can be late on a busy machine,
        // never early.
        #expect(grants[9] < .milliseconds(450))
        for (index, grant) in grants.enumerated() {
            #expect(grant >= .milliseconds(500) * (index / 10))
        }
    }

    @Test("concurrent waiters are all paced")
    func concurrentWaiters() async throws {
        let limiter = RateLimiter(limit: RateLimit(requests: 5, perSeconds: 0.2))
        let started = ContinuousClock.now
        let grants = try await withThrowingTaskGroup(of: Duration.self) { group in
            for _ in 0..<15 {
                group.addTask {
                    try await self.pass(limiter)
                    return ContinuousClock.now - started
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }.sorted()
        }
        for (index, grant) in grants.enumerated() {
            #expect(grant >= .milliseconds(200) * (index / 5))
        }
    }

    @Test("a request still under way holds its place until its answer arrives")
    func requestsUnderWay() async throws {
        let limiter = RateLimiter(limit: RateLimit(requests: 1, perSeconds: 0.1))
        let first = try await limiter.acquire()
        let started = ContinuousClock.now
        let second = Task {
            let permit = try await limiter.acquire()
            await limiter.release(permit)
            return ContinuousClock.now - started
        }
        try await Task.sleep(for: .milliseconds(300))
        await limiter.release(first)
        // Not 0.1 s after the first was sent, but 0.1 s after its answer.
        #expect(try await second.value >= .milliseconds(400))
    }

    @Test("a waiter that is cancelled leaves the queue")
    func cancelledWaiter() async throws {
        let limiter = RateLimiter(limit: RateLimit(requests: 1, perSeconds: 0.05))
        let held = try await limiter.acquire()
        let waiter = Task { try await limiter.acquire() }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { _ = try await waiter.value }
        await limiter.release(held)
        try await pass(limiter)
    }

    @Test("a waiter hears how long it waits")
    func waitCallback() async throws {
        let limiter = RateLimiter(limit: RateLimit(requests: 1, perSeconds: 0.3))
        try await pass(limiter) { _ in Issue.record("the first request must not wait") }
        let heard = Mutex<Duration?>(nil)
        try await pass(limiter) { wait in heard.withLock { $0 = wait } }
        let wait = try #require(heard.withLock { $0 })
        #expect(wait > .milliseconds(200) && wait <= .milliseconds(300))
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
        #expect(pacing[.download] == RateLimit(requests: 12, perSeconds: 60))
        #expect(pacing[.upload] == RateLimit(requests: 1, perSeconds: 60))
        #expect(pacing[.range] == nil)
        #expect(Pacing.unlimited.limits.isEmpty)
    }
}
