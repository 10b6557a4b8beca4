import Foundation
import Hummingbird
import MaviAPI
@testable import MaviClient
import Synchronization
import Testing

@Suite("Deleting videos", .timeLimit(.minutes(1)))
struct DeleteTests {
    private func batches(_ server: ReplayServer) throws -> [[String]] {
        try server.requests(to: APIPath.deleteVideos).map { try JSONDecoder().decode([String].self, from: $0.bodyData) }
    }

    @Test("250 ids go in three requests of 100, 100 and 50")
    func batching() async throws {
        let server = ReplayServer()
        server.on(APIPath.deleteVideos, replies: [.json(Fixtures.deleteOK)])
        let ids = (0..<250).map { "VI\($0)" }
        let heard = Mutex<[Int]>([])
        try await server.run { url in
            try await withTestClient(testConfiguration(url)) { client in
                try await client.deleteVideos(ids) { batch in heard.withLock { $0.append(batch.count) } }
            }
        }
        let sent = try batches(server)
        #expect(sent.map(\.count) == [100, 100, 50])
        #expect(sent.flatMap { $0 } == ids)
        #expect(heard.withLock { $0 } == [100, 100, 50])
        for request in server.requests {
            #expect(request.method == .post && request.queryValue("unique_id") == "test-space")
            #expect(request.headers[.contentType] == "application/json" && request.authorization == Fixtures.testKey)
        }
    }

    @Test("exactly 100 ids is one request; duplicates are sent once; none is no request")
    func edges() async throws {
        let server = ReplayServer()
        server.on(APIPath.deleteVideos, replies: [.json(#"{"code":"0000","msg":"success","data":{},"success":true,"failed":false}"#)])
        try await server.run { url in
            try await withTestClient(testConfiguration(url)) { client in
                try await client.deleteVideos((0..<100).map { "VI\($0)" } + ["VI0", "VI1"])
                try await client.deleteVideos([])
            }
        }
        #expect(try batches(server).map(\.count) == [100])
    }

    @Test("a failing batch stops the rest; the earlier batches were reported")
    func failingBatch() async throws {
        let server = ReplayServer()
        server.on(APIPath.deleteVideos, replies: [.json(Fixtures.deleteOK), .envelope("0001", APIMessage.deleteTooMany)])
        let heard = Mutex(0)
        let error = try await server.run { url in
            try await withTestClient(testConfiguration(url)) { client in
                await clientError {
                    try await client.deleteVideos((0..<300).map { "VI\($0)" }) { _ in heard.withLock { $0 += 1 } }
                }
            }
        }
        guard case .invalidParameter(let failure)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(failure.endpoint == .deleteVideos && failure.message == APIMessage.deleteTooMany)
        #expect(heard.withLock { $0 } == 1)
        #expect(server.requests.count == 2)
    }

    @Test("deletes are paced and retried like any request")
    func retriedDelete() async throws {
        let server = ReplayServer()
        server.on(APIPath.deleteVideos, replies: [.envelope("0429", APIMessage.rateLimited), .json(Fixtures.deleteOK)])
        try await server.run { url in
            try await withTestClient(testConfiguration(url)) { try await $0.deleteVideos(["VI1"]) }
        }
        #expect(server.requests.count == 2)
    }
}
