import Foundation
import MaviAPI
import Testing
import TestSupport

@Suite("delete_videos and the retired delete")
struct DeleteTests {
    @Test("Deleting removes metadata and files; unknown ids are a silent no-op with data null")
    func deleteRemovesEverything() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let videoNo = try await api.uploadOK(file: try await SharedVideos.shared.mp4())
            let video = try await api.waitUntilProcessed(videoNo)
            let filesBefore = try regularFiles(under: server.libraryDirectory + "/videos") + regularFiles(under: server.libraryDirectory + "/covers")
            #expect(filesBefore.count == 2)

            let reply = try await api.delete([videoNo, "VI000000000000000042"])
            let raw = try reply.json()
            #expect(raw["code"] as? String == "0000" && raw["msg"] as? String == "success")
            #expect(raw["data"] is NSNull)

            #expect(try await api.list().data?.totalCount == 0)
            #expect(try await api.metadata(videoNo).data == nil)
            #expect(try await api.download(videoNo).envelope().msg == APIMessage.downloadFailed)
            #expect(try await api.withKey(nil).get(try #require(video.videoURL)).status == 404)
            let filesAfter = try regularFiles(under: server.libraryDirectory + "/videos") + regularFiles(under: server.libraryDirectory + "/covers")
            #expect(filesAfter.isEmpty)

            let again = try await api.delete([videoNo])
            #expect(try again.envelope().isSuccess)
        }
    }

    @Test("1 to 100 ids: empty and 101 are refused with their messages")
    func batchLimits() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let seeded = try await server.server.seedVideos(count: 100)
            let empty = try await api.delete([]).envelope()
            #expect(empty.code == APICode.invalidParameter.rawValue && empty.msg == APIMessage.deleteEmpty)
            let tooMany = try await api.delete(seeded + ["VI1"]).envelope()
            #expect(tooMany.code == APICode.invalidParameter.rawValue && tooMany.msg == APIMessage.deleteTooMany)
            #expect(try await api.list().data?.totalCount == 100)
            let notAnArray = try await api.post(APIPath.deleteVideos, json: #"{"video_nos":["VI1"]}"#).envelope()
            #expect(notAnArray.code == APICode.invalidParameter.rawValue)
            #expect(try await api.delete(seeded).envelope().isSuccess)
            #expect(try await api.list().data?.totalCount == 0)
        }
    }

    @Test("The retired DELETE /api/serve/video/delete takes up to 500 ids, as an array or {videoNos}")
    func legacyDelete() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let seeded = try await server.server.seedVideos(count: 3)
            let tooMany = try await api.send(.DELETE, APIPath.legacyDelete, body: try JSONEncoder().encode((0..<501).map { "VI\($0)" }))
            #expect(try tooMany.envelope().code == APICode.invalidParameter.rawValue)
            let empty = try await api.send(.DELETE, APIPath.legacyDelete, body: Data("[]".utf8))
            #expect(try empty.envelope().msg == APIMessage.deleteEmpty)

            let array = try await api.send(.DELETE, APIPath.legacyDelete, body: try JSONEncoder().encode([seeded[0]] + (0..<499).map { "VI\($0)" }))
            #expect(try array.envelope().isSuccess)
            let object = try await api.send(.DELETE, APIPath.legacyDelete, body: Data(#"{"videoNos":["\#(seeded[1])"]}"#.utf8))
            #expect(try object.envelope().isSuccess)
            #expect(try await api.list().data?.videos.map(\.videoNo) == [seeded[2]])
        }
    }

    private func regularFiles(under directory: String) throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        return walker.compactMap { $0 as? String }.filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: directory + "/" + path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
    }
}
