import Foundation
import Hummingbird
import MaviAPI
@testable import MaviClient
import Testing
import TestSupport

@Suite("Retries", .timeLimit(.minutes(1)))
struct RetryTests {
    private let page = Reply.json(Fixtures.listNumbers)

    /// Lists once against a server that answers `replies` in turn; returns the outcome and the
    /// number of requests the server received.
    private func list(
        _ replies: [Reply], retry: RetryPolicy = fastRetry, clock: TimeSource = .continuous
    ) async throws -> (Result<VideoPage, MaviClientError>, Int) {
        let server = ReplayServer()
        server.on(APIPath.listVideos, replies: replies)
        let result = try await server.run { url in
            try await withTestClient(testConfiguration(url, retry: retry, clock: clock)) { client in
                do {
                    return Result<VideoPage, MaviClientError>.success(try await client.listVideos())
                } catch let error as MaviClientError {
                    expectNoKey(in: error)
                    return .failure(error)
                }
            }
        }
        return (result, server.requests.count)
    }

    @Test("transient failures are retried until success", arguments: [
        [Reply.json(Fixtures.serviceUnavailable, status: .serviceUnavailable), .json(Fixtures.serviceUnavailable, status: .serviceUnavailable)],
        [Reply.envelope("0429", APIMessage.rateLimited), .envelope("0429", APIMessage.rateLimited)],
        [Reply.envelope("0001", APIMessage.networkAbnormal)],
        [Reply.html(Fixtures.badGatewayPage, status: .badGateway)],
        [Reply.json("", status: .tooManyRequests)],
        [Reply.json(Fixtures.serviceUnavailable, status: .internalServerError), .envelope("0001", APIMessage.networkAbnormal)],
    ])
    func retriedUntilSuccess(failures: [Reply]) async throws {
        let (result, requests) = try await list(failures + [page])
        #expect((try? result.get())?.videos.count == 2)
        #expect(requests == failures.count + 1)
    }

    @Test("permanent failures are not retried", arguments: [
        Reply.envelope("0401", APIMessage.unauthorized),
        .envelope("0001", "The latitude and longitude parameters must be provided together."),
        .envelope("0003", "bad"),
        .envelope("0402", "no points"),
        .envelope("0403", "disabled"),
        .envelope("0409", "duplicate"),
        .envelope("9009", "denied"),
        .json(Fixtures.notFoundInfrastructure, status: .notFound),
        .json("{}", status: .unauthorized),
        .json("not json"),
    ])
    func notRetried(failure: Reply) async throws {
        let (result, requests) = try await list([failure, page])
        #expect(throws: MaviClientError.self) { try result.get() }
        #expect(requests == 1)
    }

    @Test("attempts are bounded")
    func boundedAttempts() async throws {
        let (result, requests) = try await list([.envelope("0429", APIMessage.rateLimited)])
        guard case .failure(.rateLimited) = result else { Issue.record("got \(result)"); return }
        #expect(requests == fastRetry.maxAttempts)
    }

    /// Lists on a clock that moves only when the client sleeps on it (between attempts), by
    /// exactly its sleep: backoff and deadlines are checked in clock time, not by how fast a
    /// loaded machine answers. Returns the outcome, the requests and every sleep.
    private func listOnManualClock(
        _ replies: [Reply], retry: RetryPolicy
    ) async throws -> (result: Result<VideoPage, MaviClientError>, requests: Int, sleeps: [Duration], clock: ManualClock) {
        let clock = ManualClock()
        let ((result, requests), sleeps) = try await clock.run { try await list(replies, retry: retry, clock: TimeSource(clock)) }
        return (result, requests, sleeps, clock)
    }

    @Test("the deadline stops retries before the attempts run out, never past it")
    func deadline() async throws {
        let policy = RetryPolicy(maxAttempts: 1_000, baseDelay: .milliseconds(100), maxDelay: .milliseconds(100), deadline: .seconds(10))
        let outcome = try await listOnManualClock([.json(Fixtures.serviceUnavailable, status: .serviceUnavailable)], retry: policy)
        guard case .failure(.httpStatus(let failure)) = outcome.result else { Issue.record("got \(outcome.result)"); return }
        #expect(failure.status == 503 && failure.infrastructure?.requestId == "req-503")
        #expect(outcome.requests >= 100 && outcome.requests < 1_000, "\(outcome.requests) attempts")
        #expect(outcome.sleeps.allSatisfy { $0 <= .milliseconds(100) })
        // The attempts stop inside the deadline: every backoff ends before it.
        #expect(outcome.clock.now.offset <= .seconds(10), "the last attempt went at \(outcome.clock.now.offset)")
    }

    @Test("Retry-After is honoured, within the maximum delay")
    func retryAfter() async throws {
        let policy = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1), maxDelay: .milliseconds(300), deadline: .seconds(10))
        var busy = Reply.json(Fixtures.serviceUnavailable, status: .serviceUnavailable)
        busy.headers[.retryAfter] = "3600"
        let outcome = try await listOnManualClock([busy, page], retry: policy)
        #expect((try? outcome.result.get()) != nil && outcome.requests == 2)
        // Far below the hour asked for: the maximum delay, exactly.
        #expect(outcome.sleeps == [.milliseconds(300)])
    }

    @Test("a refused connection is retried at once, then reported as such, without waiting for the connect timeout")
    func refusedConnection() async throws {
        let policy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), maxDelay: .milliseconds(5), deadline: .seconds(60))
        // A connect timeout far longer than the whole test may take: a refusal that waited for it
        // would show as ten minutes, so the bound below can leave a loaded machine room.
        let timeouts = Timeouts(connect: .seconds(600), request: .seconds(600), idleRead: .seconds(2), connectionIdle: .seconds(5))
        let start = ContinuousClock.now
        let error = try await withRefusingPort { url in
            try await withTestClient(testConfiguration(url, retry: policy, timeouts: timeouts)) { client in
                await clientError { try await client.listVideos() }
            }
        }
        let elapsed = ContinuousClock.now - start
        guard case .connectionFailed(_, let reason)? = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(reason == "Connection refused", "the system's words, not NIO's: \(reason)")
        #expect(error?.requestWasNotProcessed == true)
        #expect(elapsed < .seconds(45), "three refused attempts took \(elapsed)")
    }

    @Test("full jitter stays within the exponential cap")
    func jitterBounds() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(100), maxDelay: .seconds(1))
        for retry in 1...8 {
            let cap = min(Duration.seconds(1), .milliseconds(100) * (1 << (retry - 1)))
            for _ in 0..<50 {
                let delay = policy.delay(beforeRetry: retry)
                #expect(delay >= .zero && delay <= cap)
            }
        }
        var always = MaxRandom()
        let capped = policy.delay(beforeRetry: 3, using: &always)
        #expect(capped > .milliseconds(399) && capped <= .milliseconds(400))
        #expect(policy.delay(beforeRetry: 1, atLeast: .milliseconds(700)) == .milliseconds(700))
        #expect(policy.delay(beforeRetry: 1, atLeast: .seconds(60)) == .seconds(1))
    }

    /// A generator that always returns its maximum, so that the jittered delay is the cap.
    private struct MaxRandom: RandomNumberGenerator {
        mutating func next() -> UInt64 { .max }
    }
}
