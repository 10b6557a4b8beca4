import Foundation
import MaviAPI
@testable import MaviClient
import Synchronization
import Testing
import TestSupport

@Suite("Against mavifs serve: upload", .timeLimit(.minutes(1)))
struct LiveUploadTests {
    @Test("an upload streams the file, starts UNPARSE, is probed to PARSE and calls back")
    func uploadAndProcess() async throws {
        let source = try await VideoFixtures.sharedMP4(seconds: 2, width: 320, height: 240, fps: 25)
        let size = Int64(try contents(of: source).count)
        let hooks = ReplayServer()
        hooks.on("/hook", replies: [.json("{}")])
        let events = Mutex<[UploadProgress]>([])

        let (reply, video) = try await hooks.run { hookURL in
            try await withLiveLibrary { library in
                let fields = UploadFields(
                    tags: ["holiday", "harbour"], cameraModel: "Canon EOS 5D", takenAt: "2024-10-20 09:30:00",
                    location: GeoPoint(latitude: 39.9042, longitude: 116.4074), callback: "\(hookURL.absoluteString)/hook")
                let reply = try await library.client.upload(file: source, fields: fields) { event in events.withLock { $0.append(event) } }
                let video = try await library.waitUntilProcessed(reply.videoNo)
                // The callback is sent after the video is marked PARSE: wait for it, bounded.
                _ = try await ServerHarness.poll("the processing callback") { hooks.requests(to: "/hook").first }
                return (reply, video)
            }
        }

        #expect(reply.videoStatus == .unparsed && reply.videoNo.hasPrefix("VI"))
        #expect(reply.videoName == URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent)
        let uploadTime = try #require(reply.uploadTime)
        #expect(abs(uploadTime - Int64(Date().timeIntervalSince1970 * 1000)) < 600_000)

        #expect(video.videoNo == reply.videoNo && video.status == .parsed)
        #expect(video.size == size && video.duration == 2)
        #expect(video.width == 320 && video.height == 240 && video.fps == 25 && video.resolutionLabel == "240p")
        #expect(video.tags == ["holiday", "harbour", "api"])
        #expect(video.cameraModel == "Canon EOS 5D" && video.latitude == 39.9042 && video.longitude == 116.4074)
        #expect(video.datetimeTaken == UploadSpec(name: "", taken: "2024-10-20 09:30:00").takenMilliseconds)
        #expect(video.createTime == uploadTime)

        let callback = try #require(hooks.requests(to: "/hook").first)
        #expect(callback.method == .post && callback.authorization == nil, "the key never goes to a callback")
        let body = try JSONDecoder().decode(ProcessingCallback.self, from: callback.bodyData)
        #expect(body == ProcessingCallback(videoNo: reply.videoNo, status: .parsed))

        let sent = events.withLock { $0 }.compactMap { if case .sending(let sent, _) = $0 { sent } else { nil } }
        #expect(sent.first == 0 && sent.last == size)
        #expect(events.withLock { $0.last } == .awaitingReply)
    }

    @Test("a tag with a space survives the round trip, and the tag filter finds it")
    func tagWithSpace() async throws {
        try await withLiveLibrary { library in
            let video = try await library.uploadAndWait(
                try await VideoFixtures.sharedMP4(), fields: UploadFields(tags: ["old town", "night"]))
            #expect(video.tags == ["old town", "night", "api"])
            let found = try await library.client.listVideos(filter: VideoFilter(tag: "old town"))
            #expect(found.videos.map(\.videoNo) == [video.videoNo])
        }
    }

    @Test("the cover_url of a parsed video is a JPEG")
    func cover() async throws {
        try await withLiveLibrary { library in
            let video = try await library.uploadAndWait(try await VideoFixtures.sharedMP4())
            let url = try #require(video.coverURL.flatMap(URL.init(string:)))
            guard case .partial(let range, let stream) = try await library.client.fetchRange(url, range: 0...2) else {
                Issue.record("the cover URL does not honour Range")
                return
            }
            #expect(try await data(of: stream) == Data([0xFF, 0xD8, 0xFF]), "the JPEG start-of-image marker")
            #expect((range.completeLength ?? 0) > 100)
        }
    }

    @Test("with retain_original_video false the video is parsed, then its original is gone")
    func originalNotRetained() async throws {
        try await withLiveLibrary { library in
            let video = try await library.uploadAndWait(
                try await VideoFixtures.sharedMP4(), fields: UploadFields(retainOriginalVideo: false))
            #expect(video.status == .parsed && video.width != nil && video.coverURL != nil)
            #expect(video.videoURL == nil && video.blob == nil, "no file left to point at")
            let error = await clientError { try await library.client.download(videoNo: video.videoNo) }
            guard case .jsonInsteadOfBytes? = error else { Issue.record("got \(String(describing: error))"); return }
        }
    }

    // Kept small: the server's multipart parsing runs at about 1 MB/s in a debug build.
    @Test("a multi-megabyte file streams up in chunks, and back byte for byte")
    func largeFile() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.appending("large.mkv")
        let size: Int64 = (1 << 20) + 12_345
        try VideoFixtures.makeSparseFile(at: path, size: size)
        try await withLiveLibrary { library in
            let sent = Mutex<[Int64]>([])
            let reply = try await library.client.upload(file: path) { event in
                if case .sending(let bytes, _) = event { sent.withLock { $0.append(bytes) } }
            }
            let progress = sent.withLock { $0 }
            #expect(progress.count > 3 && progress.last == size && progress == progress.sorted())
            let stored = try #require(try await library.client.getMetadata(videoNo: reply.videoNo))
            #expect(stored.size == size && stored.blob?.hasSuffix(".mkv") == true)
            let downloaded = try await data(of: library.client.download(videoNo: reply.videoNo, expectedLength: size))
            #expect(downloaded == Data(count: Int(size)))
        }
    }

    @Test("a file that is no video ends FAIL with a cause")
    func notAVideo() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.appending("noise.mov")
        try VideoFixtures.makeNonVideo(at: path, count: 10_000)
        try await withLiveLibrary { library in
            let video = try await library.uploadAndWait(path)
            #expect(video.status == .fail && video.status.isFailed)
            #expect(video.cause?.isEmpty == false)
        }
    }

    @Test("the server's upload limits answer as typed errors", arguments: [
        // More than 20 tags once the server splits a comma-separated field.
        UploadFields(tags: [(0..<21).map { "t\($0)" }.joined(separator: ",")]),
        UploadFields(callback: "ftp://example.com/hook"),
    ])
    func serverRefusals(fields: UploadFields) async throws {
        try await withLiveLibrary { library in
            let error = await clientError { try await library.client.upload(file: try await VideoFixtures.sharedMP4(), fields: fields) }
            guard case .invalidParameter(let failure)? = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(failure.endpoint == .upload && failure.code == APICode.invalidParameter.rawValue)
            #expect(library.stats.requests(.upload) == 1, "a refused upload is not sent again")
            let stored = try await library.client.listVideos().videos
            #expect(stored.isEmpty)
        }
    }
}
