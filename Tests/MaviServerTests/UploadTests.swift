import Foundation
import MaviAPI
import Testing
import TestSupport

@Suite("Upload and processing")
struct UploadTests {
    @Test("An upload answers UNPARSE in camelCase, then processing fills in the video and marks it PARSE")
    func uploadThenParse() async throws {
        try await ServerHarness.withServer(configure: { $0.processingDelay = .milliseconds(400) }) { server async throws in
            let api = TestAPI(server)
            let file = try await SharedVideos.shared.mp4(seconds: 2, width: 320, height: 240, fps: 25)
            let reply = try await api.upload(file: file, fileName: "holiday clip.mp4", fields: [
                ("tags", "holiday"), ("tags", "beijing"), ("camera_model", "Canon EOS 5D"),
                ("datetime_taken", "2024-10-20 02:20:00"), ("latitude", "39.9042"), ("longitude", "116.4074"),
            ])
            let raw = try reply.json()
            let data = try #require(raw["data"] as? [String: Any])
            #expect(raw["code"] as? String == "0000")
            #expect(Set(data.keys) == ["videoNo", "videoName", "videoStatus", "uploadTime"])
            #expect(data["videoStatus"] as? String == "UNPARSE")
            #expect(data["videoName"] as? String == "holiday clip")
            #expect((data["uploadTime"] as? String).flatMap { Int64($0) } != nil)
            let videoNo = try #require(data["videoNo"] as? String)
            #expect(videoNo.hasPrefix("VI") && videoNo.dropFirst(2).allSatisfy(\.isNumber))

            // Still processing: no summary yet, so no capture metadata and no tags.
            let early = try #require(try await api.metadata(videoNo).data)
            #expect(early.status == .unparsed)
            #expect(early.tags.isEmpty && early.cameraModel == nil)

            let video = try await api.waitUntilProcessed(videoNo)
            #expect(video.status == .parsed)
            #expect(video.cause == nil)
            #expect(video.duration == 2)
            #expect(video.width == 320 && video.height == 240)
            #expect(video.fps == 25)
            #expect(video.resolutionLabel == "240p")
            #expect(video.size == Int64(try Data(contentsOf: URL(fileURLWithPath: file)).count))
            #expect(video.tags == ["holiday", "beijing", "api"])
            #expect(video.cameraModel == "Canon EOS 5D")
            #expect(video.datetimeTaken == 1_729_390_800_000)
            #expect(video.latitude == 39.9042 && video.longitude == 116.4074)
            #expect(video.bucket == "mavi-resource" && video.blob == "\(videoNo).mp4")

            let cover = try await api.withKey(nil).get(try #require(video.coverURL))
            #expect(cover.status == 200)
            #expect(cover.header("Content-Type") == "image/jpeg")
            #expect(cover.body.prefix(2) == Data([0xFF, 0xD8]))
        }
    }

    @Test("Tags arrive as tags[0], tags[1]… and comma lists too")
    func indexedTags() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let videoNo = try await api.uploadOK(file: try await SharedVideos.shared.mp4(), fields: [
                ("tags[0]", "cat"), ("tags[1]", "couch"), ("tags", "kitchen,living_room"),
            ])
            let video = try await api.waitUntilProcessed(videoNo)
            #expect(video.tags == ["cat", "couch", "kitchen", "living_room", "api"])
        }
    }

    @Test("A file that is not a video ends FAIL with a cause")
    func notAVideoFails() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let videoNo = try await api.uploadOK(file: try await SharedVideos.shared.notAVideo(), fields: [("tags", "x")])
            let video = try await api.waitUntilProcessed(videoNo)
            #expect(video.status == .fail)
            #expect(video.cause?.isEmpty == false)
            #expect(video.tags.isEmpty)
            let raw = try await api.get(APIPath.getMetadata + "?video_no=\(videoNo)").json()
            let data = try #require(raw["data"] as? [String: Any])
            #expect(data["status"] as? String == "FAIL")
            #expect((data["cause"] as? String) != "null")
        }
    }

    @Test("The callback receives {videoNo, status} when processing ends")
    func callback() async throws {
        try await CallbackReceiver.with { receiver, url async throws in
            try await ServerHarness.withServer { server async throws in
                let api = TestAPI(server)
                let good = try await api.uploadOK(file: try await SharedVideos.shared.mp4(), fields: [("callback", url)])
                let bad = try await api.uploadOK(file: try await SharedVideos.shared.notAVideo(), fields: [("callback", url)])
                let callbacks = try await ServerHarness.poll("two callbacks", within: .seconds(60)) {
                    receiver.callbacks.count >= 2 ? receiver.callbacks : nil
                }
                #expect(Set(callbacks.map(\.videoNo)) == [good, bad])
                #expect(callbacks.first { $0.videoNo == good }?.status == .parsed)
                #expect(callbacks.first { $0.videoNo == bad }?.status == .fail)
            }
        }
    }

    @Test("Upload validation answers 0001 with a message and stores nothing")
    func validation() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let mp4 = try await SharedVideos.shared.mp4()
            let refusals: [HTTPReply] = [
                try await api.upload(file: mp4, fileName: "clip.txt"),
                try await api.upload(file: mp4, partContentType: "image/jpeg"),
                try await api.upload(file: mp4, fields: (0..<21).map { ("tags", "t\($0)") }),
                try await api.upload(file: mp4, fields: [("camera_model", String(repeating: "c", count: 201))]),
                try await api.upload(file: mp4, fields: [("callback", "http://example.invalid/" + String(repeating: "a", count: 290))]),
                try await api.upload(file: mp4, fields: [("datetime_taken", "20/10/2024")]),
                try await api.upload(file: mp4, fields: [("latitude", "north")]),
                try await api.upload(file: mp4, fields: [("retain_original_video", "maybe")]),
                try await api.send(.POST, APIPath.upload, body: Data("{}".utf8)),
            ]
            for reply in refusals {
                let envelope = try reply.envelope()
                #expect(reply.status == 200)
                #expect(envelope.code == APICode.invalidParameter.rawValue, "\(reply.text)")
                #expect(!envelope.msg.isEmpty)
            }
            // No file part at all.
            let form = MultipartBody()
            let noFile = try await api.send(.POST, APIPath.upload, body: form.field("unique_id", "default") + form.closing, contentType: form.contentType)
            #expect(try noFile.envelope().code == APICode.invalidParameter.rawValue)
            #expect(try await api.list().data?.totalCount == 0)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: server.libraryDirectory + "/tmp")
            #expect(leftovers.isEmpty)
        }
    }

    @Test("A truncated multipart body is refused")
    func truncatedBody() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let form = MultipartBody()
            let body = form.file("file", fileName: "a.mp4", contentType: "video/mp4", contents: Data(repeating: 7, count: 5000)).prefix(3000)
            let reply = try await api.send(.POST, APIPath.upload, body: Data(body), contentType: form.contentType)
            #expect(try reply.envelope().code == APICode.invalidParameter.rawValue)
            #expect(try await api.list().data?.totalCount == 0)
        }
    }

    @Test("retain_original_video=false drops the original once parsed")
    func dropOriginal() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let videoNo = try await api.uploadOK(file: try await SharedVideos.shared.mp4(), fields: [("retain_original_video", "false")])
            let video = try await api.waitUntilProcessed(videoNo)
            #expect(video.status == .parsed)
            #expect(video.videoURL == nil && video.blob == nil)
            #expect(video.coverURL != nil)
            let download = try await api.download(videoNo)
            #expect(try download.envelope().msg == APIMessage.downloadFailed)
        }
    }

    @Test("upload_url fetches the video from a URL, then processes it")
    func uploadFromURL() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let source = try await api.uploadOK(file: try await SharedVideos.shared.mp4(seconds: 2))
            let sourceURL = try #require(try await api.waitUntilProcessed(source).videoURL)
            let body = "url=\(sourceURL.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)&unique_id=fetched&tags=web"
            let reply = try await api.send(.POST, APIPath.uploadURL, body: Data(body.utf8), contentType: "application/x-www-form-urlencoded")
            let accepted = try #require(try reply.envelope(UploadReply.self).data)
            #expect(accepted.videoStatus == .unparsed)
            let video = try await api.waitUntilProcessed(accepted.videoNo, namespace: "fetched")
            #expect(video.status == .parsed)
            #expect(video.duration == 2)
            #expect(video.tags == ["web", "api"])
            let original = try await api.download(source)
            let copy = try await api.download(accepted.videoNo, namespace: "fetched")
            #expect(VideoDigest.hex(of: copy.body) == VideoDigest.hex(of: original.body))

            let missing = try await api.send(.POST, APIPath.uploadURL, body: Data("unique_id=x".utf8), contentType: "application/x-www-form-urlencoded")
            #expect(try missing.envelope().code == APICode.invalidParameter.rawValue)
        }
    }
}
