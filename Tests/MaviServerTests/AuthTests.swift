import Foundation
import MaviAPI
import Testing
import TestSupport

@Suite("Authentication")
struct AuthTests {
    @Test("A missing or wrong key gets 0401 on every API endpoint")
    func refusesWithoutKey() async throws {
        try await ServerHarness.withServer { server async throws in
            for api in [TestAPI(server).withKey(nil), TestAPI(server).withKey("sk-mavi-wrong")] {
                let replies = [
                    try await api.post(APIPath.listVideos, json: "{}"),
                    try await api.post(APIPath.download, json: #"{"video_no":"VI1"}"#),
                    try await api.post(APIPath.deleteVideos, json: #"["VI1"]"#),
                    try await api.get(APIPath.getMetadata + "?video_no=VI1"),
                    try await api.get(APIPath.downloadV2 + "?bucket=mavi-resource&blob=VI1.mp4"),
                    try await api.send(.DELETE, APIPath.legacyDelete, body: Data(#"["VI1"]"#.utf8)),
                    try await api.upload(file: try await SharedVideos.shared.mp4()),
                ]
                for reply in replies {
                    #expect(reply.status == 200)
                    #expect(reply.header("Content-Type") == "application/json")
                    let envelope = try reply.envelope()
                    #expect(envelope.code == APICode.unauthorized.rawValue)
                    #expect(envelope.msg == APIMessage.unauthorized)
                    #expect(envelope.failed && !envelope.success)
                }
            }
        }
    }

    @Test("A refused request touches nothing")
    func refusedTouchesNothing() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let seeded = try await server.server.seedVideos(count: 2)
            let stranger = api.withKey("sk-mavi-not-a-key")
            _ = try await stranger.delete(seeded)
            _ = try await stranger.upload(file: try await SharedVideos.shared.mp4())
            let page = try await api.list()
            #expect(page.data?.totalCount == 2)
            #expect(Set(page.data?.videos.map(\.videoNo) ?? []) == Set(seeded))
        }
    }

    @Test("The raw key and `Bearer <key>` both work; the key is matched exactly")
    func acceptsRawAndBearer() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            #expect(try await api.list().isSuccess)
            #expect(try await api.withKey("Bearer \(server.apiKey)").list().isSuccess)
            #expect(try await api.withKey("bearer \(server.apiKey)").list().isSuccess)
            #expect(try await api.withKey(server.apiKey + "x").list().code == APICode.unauthorized.rawValue)
            #expect(try await api.withKey(String(server.apiKey.dropLast())).list().code == APICode.unauthorized.rawValue)
        }
    }

    @Test("Several keys are accepted")
    func severalKeys() async throws {
        try await ServerHarness.withServer(configure: { $0.apiKeys = ["sk-mavi-one", "sk-mavi-two"] }) { server async throws in
            let api = TestAPI(server)
            #expect(try await api.withKey("sk-mavi-one").list().isSuccess)
            #expect(try await api.withKey("sk-mavi-two").list().isSuccess)
            #expect(try await api.withKey("sk-mavi-three").list().code == APICode.unauthorized.rawValue)
        }
    }
}
