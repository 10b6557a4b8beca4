import Foundation
import Hummingbird
import MaviAPI
@testable import MaviClient
import Testing

@Suite("Retries", .timeLimit(.minutes(1)))
struct RetryTests {
    private let page = Reply.json(Fixtures.listNumbers)

    /// Lists once against a server that answers `replies` in turn; returns the outcome and the
    /// number of requests the server received.
    private func list(_ replies: [Reply], retry: RetryPolicy = fastRetry) async throws -> (Result<VideoPage, MaviClientError>, Int) {
        let server = ReplayServer()
        server.on(APIPath.listVideos, replies: replies)
        let result = try await server.run { url in
            try await withTestClient(testConfiguration(url, retry: retry)) { client in
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

    @Test("the deadline stops retries before the attempts run out")
    func deadline() async throws {
        // Long enough for the first attempt to fail and be retried even on a loaded machine.
        let policy = RetryPolicy(maxAttempts: 1_000, baseDelay: .milliseconds(100), maxDelay: .milliseconds(100), deadline: .seconds(10))
        let started = ContinuousClock.now
        let (result, requests) = try await list([.json(Fixtures.serviceUnavailable, status: .serviceUnavailable)], retry: policy)
        guard case .failure(.httpStatus(let failure)) = result else { Issue.record("got \(result)"); return }
        #expect(failure.status == 503 && failure.infrastructure?.requestId == "req-503")
        #expect(requests >= 2 && requests < 1_000)
        // Generous: a loaded machine is slow, but without the deadline 1,000 attempts take longer.
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test("Retry-After is honoured, within the maximum delay")
    func retryAfter() async throws {
        let policy = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1), maxDelay: .milliseconds(300), deadline: .seconds(10))
        var busy = Reply.json(Fixtures.serviceUnavailable, status: .serviceUnavailable)
        busy.headers[.retryAfter] = "3600"
        let started = ContinuousClock.now
        let (result, requests) = try await list([busy, page], retry: policy)
        #expect((try? result.get()) != nil && requests == 2)
        let elapsed = ContinuousClock.now - started
        // Far below the hour asked for; generous for a loaded machine.
        #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(30))
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
