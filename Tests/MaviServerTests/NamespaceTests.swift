import Foundation
import MaviAPI
import Testing
import TestSupport

@Suite("Namespaces")
struct NamespaceTests {
    @Test("A namespace sees nothing of another's videos")
    func isolation() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let mine = try await api.uploadOK(file: try await SharedVideos.shared.mp4(), fields: [("unique_id", "alice")])
            let theirs = try await api.uploadOK(file: try await SharedVideos.shared.mp4(), fields: [("unique_id", "../bob")])
            _ = try await api.waitUntilProcessed(mine, namespace: "alice")
            _ = try await api.waitUntilProcessed(theirs, namespace: "../bob")

            #expect(try await api.list(#"{"unique_id":"alice"}"#).data?.videos.map(\.videoNo) == [mine])
            #expect(try await api.list(#"{"unique_id":"../bob"}"#).data?.videos.map(\.videoNo) == [theirs])
            #expect(try await api.list().data?.totalCount == 0)
            #expect(try await api.list(#"{"unique_id":"alice","video_no":"\#(theirs)"}"#).data?.totalCount == 0)
            #expect(try await api.metadata(theirs, namespace: "alice").data == nil)
            #expect(try await api.metadata(mine).data == nil)
            #expect(try await api.download(theirs, namespace: "alice").envelope().msg == APIMessage.downloadFailed)

            // Deleting from the wrong namespace is a no-op.
            #expect(try await api.delete([theirs], namespace: "alice").envelope().isSuccess)
            #expect(try await api.metadata(theirs, namespace: "../bob").data != nil)

            // An unsafe namespace name never becomes a path outside the library.
            let top = try FileManager.default.contentsOfDirectory(atPath: server.libraryDirectory + "/videos")
            #expect(top.contains("alice") && !top.contains("..") && !top.contains("bob"))
            #expect(!FileManager.default.fileExists(atPath: server.libraryDirectory + "/bob"))

            // File URLs of different namespaces live under different tokens.
            let a = try #require(try await api.metadata(mine, namespace: "alice").data?.videoURL)
            let b = try #require(try await api.metadata(theirs, namespace: "../bob").data?.videoURL)
            #expect(a.split(separator: "/").dropLast().last != b.split(separator: "/").dropLast().last)
        }
    }
}
