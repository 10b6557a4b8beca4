import Foundation
import MaviAPI
import Testing
import TestSupport

@Suite("Rate limits")
struct RateLimitTests {
    private func codes(_ count: Int, _ request: @escaping @Sendable () async throws -> HTTPReply) async throws -> [String] {
        try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<count { group.addTask { try await request().envelope().code } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    @Test("list_videos: a burst beyond 5 per second gets 0429")
    func listBurst() async throws {
        try await ServerHarness.withServer(rateLimits: true) { server async throws in
            let api = TestAPI(server)
            // Sent at once, a dozen calls land well within one second even on a loaded machine.
            let results = try await codes(12) { try await api.post(APIPath.listVideos, json: "{}") }
            #expect(results.contains(APICode.rateLimited.rawValue))
            #expect(results.filter { $0 == APICode.success.rawValue }.count >= 1)
            let limited = try await api.post(APIPath.listVideos, json: "{}")
            if try limited.envelope().code == APICode.rateLimited.rawValue {
                #expect(try limited.envelope().msg == APIMessage.rateLimited)
                #expect(limited.status == 200)
            }
        }
    }

    @Test("download: the 13th within a minute gets 0429; an upload's second within a minute too")
    func downloadAndUploadLimits() async throws {
        try await ServerHarness.withServer(rateLimits: true) { server async throws in
            let api = TestAPI(server)
            let source = try await SharedVideos.shared.mp4()
            let first = try await api.upload(file: source).envelope(UploadReply.self)
            #expect(first.isSuccess)
            let second = try await api.upload(file: source).envelope()
            #expect(second.code == APICode.rateLimited.rawValue && second.msg == APIMessage.rateLimited)

            let videoNo = try #require(first.data?.videoNo)
            var results: [String] = []
            for _ in 0..<13 {
                let reply = try await api.download(videoNo)
                results.append(reply.header("Content-Type") == "application/json" ? try reply.envelope().code : "stream")
            }
            #expect(results.filter { $0 == "stream" }.count == 12)
            #expect(results.last == APICode.rateLimited.rawValue)
            #expect(server.server.stats().downloads[videoNo] == 12)
        }
    }

    @Test("Limits are kept per key; turning them off lets bursts through")
    func perKeyAndOff() async throws {
        try await ServerHarness.withServer(rateLimits: true, configure: { $0.apiKeys = ["sk-mavi-a", "sk-mavi-b"] }) { server async throws in
            let api = TestAPI(server)
            let source = try await SharedVideos.shared.mp4()
            #expect(try await api.withKey("sk-mavi-a").upload(file: source).envelope().isSuccess)
            #expect(try await api.withKey("sk-mavi-a").upload(file: source).envelope().code == APICode.rateLimited.rawValue)
            #expect(try await api.withKey("sk-mavi-b").upload(file: source).envelope().isSuccess)
        }
        try await ServerHarness.withServer(rateLimits: false) { server async throws in
            let api = TestAPI(server)
            let results = try await codes(12) { try await api.post(APIPath.listVideos, json: "{}") }
            #expect(results.allSatisfy { $0 == APICode.success.rawValue })
        }
    }
}
