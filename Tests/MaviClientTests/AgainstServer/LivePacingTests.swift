import Foundation
import MaviAPI
@testable import MaviClient
import Testing
import TestSupport

@Suite("Against mavifs serve: pacing within the rate limits", .timeLimit(.minutes(1)))
struct LivePacingTests {
    /// Sends `calls` list requests at once.
    private func burst(_ client: MaviClient, calls: Int) async -> [Result<VideoPage, MaviClientError>] {
        await withTaskGroup(of: Result<VideoPage, MaviClientError>.self) { group in
            for _ in 0..<calls {
                group.addTask {
                    do { return .success(try await client.listVideos()) } catch let error as MaviClientError { return .failure(error) } catch {
                        return .failure(.transport(endpoint: .listVideos, reason: "\(error)"))
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
    }

    @Test("paced at the documented 5/s, a burst of 12 lists slows down and is never refused")
    func paced() async throws {
        try await withLiveLibrary(rateLimits: true, client: { $0.pacing = .documented; $0.retry = .never }) { library in
            let started = ContinuousClock.now
            let results = await burst(library.client, calls: 12)
            let elapsed = ContinuousClock.now - started
            #expect(results.allSatisfy { (try? $0.get()) != nil }, "\(results.compactMap { if case .failure(let e) = $0 { e } else { nil } })")
            #expect(library.stats.requests(.listVideos) == 12, "nothing was refused and sent again")
            // 5 at once, 5 a second later, 2 a second after that.
            #expect(elapsed >= .milliseconds(1_950))
        }
    }

    @Test("unpaced, a burst is refused with 0429: the server really limits")
    func unpaced() async throws {
        // Patient: thirty requests at once on a loaded machine must end as answers, not timeouts.
        let patient = Timeouts(connect: .seconds(30), request: .seconds(120), idleRead: .seconds(60), connectionIdle: .seconds(180))
        try await withLiveLibrary(rateLimits: true, client: { $0.pacing = .unlimited; $0.retry = .never; $0.timeouts = patient }) { library in
            // More than the paced burst, so that even a slow machine sends more than 5 within a second.
            let results = await burst(library.client, calls: 30)
            let refused = results.filter { if case .failure(.rateLimited) = $0 { true } else { false } }
            #expect(!refused.isEmpty)
            let others = results.compactMap { result -> MaviClientError? in
                guard case .failure(let error) = result else { return nil }
                if case .rateLimited = error { return nil }
                return error
            }
            #expect(others.isEmpty, "every request was answered or refused: \(others)")
        }
    }
}
