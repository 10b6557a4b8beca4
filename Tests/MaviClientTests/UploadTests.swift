import Foundation
import Hummingbird
import MaviAPI
@testable import MaviClient
import Synchronization
import Testing

@Suite("Uploading", .timeLimit(.minutes(1)))
struct UploadTests {
    /// A temporary video file that is removed after `body`.
    private func withVideoFile<Result>(named name: String = "clip.mp4", size: Int = 1_500_000, _ body: (String, [UInt8]) async throws -> Result) async throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mavifs-upload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let bytes = Fixtures.bytes(count: size, seed: 7)
        let path = directory.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return try await body(path, bytes)
    }

    @Test("the file and every field arrive as multipart/form-data; progress ends at the file size")
    func multipartUpload() async throws {
        let server = ReplayServer()
        server.on(APIPath.upload, replies: [.json(Fixtures.upload)])
        let events = Mutex<[UploadProgress]>([])
        let fields = UploadFields(
            tags: ["holiday", "beijing \"old\" town"], cameraModel: "Canon EOS 5D", takenAt: "2024-10-20 09:30:00",
            location: GeoPoint(latitude: 39.9042, longitude: 116.4074), callback: "https://example.com/hook",
            retainOriginalVideo: false
        )
        let (reply, bytes) = try await withVideoFile { path, bytes in
            let reply = try await server.run { url in
                try await withTestClient(testConfiguration(url)) { client in
                    try await client.upload(file: path, fields: fields) { event in events.withLock { $0.append(event) } }
                }
            }
            return (reply, bytes)
        }
        #expect(reply == UploadReply(videoNo: "VI625239098370850816", videoName: "clip.mp4", videoStatus: .unparsed, uploadTime: 1_744_905_509_814))

        let request = try #require(server.requests.first)
        #expect(request.method == .post && request.authorization == Fixtures.testKey)
        let contentType = try #require(request.headers[.contentType])
        #expect(contentType.hasPrefix("multipart/form-data; boundary="))
        #expect(request.headers[.contentLength] == "\(request.body.readableBytes)", "the body's length is announced")
        let parts = try MultipartParser.parse(Array(request.body.readableBytesView), boundary: #require(MultipartParser.boundary(contentType: contentType)))

        func values(_ name: String) -> [String] { parts.filter { $0.disposition("name") == name }.map(\.text) }
        #expect(values("unique_id") == ["test-space"])
        #expect(values("tags") == ["holiday", "beijing \"old\" town"])
        #expect(values("camera_model") == ["Canon EOS 5D"])
        #expect(values("datetime_taken") == ["2024-10-20 09:30:00"])
        #expect(values("latitude") == ["39.9042"] && values("longitude") == ["116.4074"])
        #expect(values("callback") == ["https://example.com/hook"])
        #expect(values("retain_original_video") == ["false"])

        let file = try #require(parts.first { $0.disposition("name") == "file" })
        #expect(file.disposition("filename") == "clip.mp4")
        #expect(file.headers["content-type"] == "video/mp4")
        #expect(file.content == bytes, "the file arrives byte for byte")
        #expect(parts.last?.disposition("name") == "file", "the file comes last, after the fields")

        let progress = events.withLock { $0 }
        let sent = progress.compactMap { if case .sending(let sent, let total) = $0 { (sent, total) } else { nil } }
        #expect(sent.first?.0 == 0 && sent.last?.0 == Int64(bytes.count) && sent.allSatisfy { $0.1 == Int64(bytes.count) })
        #expect(zip(sent, sent.dropFirst()).allSatisfy { $0.0 <= $1.0 }, "progress never goes back")
        #expect(progress.last == .awaitingReply)
    }

    @Test("a quote or line break in a file name cannot break the form")
    func fileNameEscaping() {
        #expect(MultipartForm.quoted("a\"b\r\nc.mp4") == "a%22b%0D%0Ac.mp4")
        #expect(MultipartForm.quoted("été.mov") == "été.mov")
        #expect(MultipartForm.videoContentType(forExtension: "MOV") == "video/quicktime")
    }

    @Test("documented limits are refused before anything is sent", arguments: [
        ("clip.txt", UploadFields()),
        ("clip.mp4", UploadFields(tags: (0..<21).map { "t\($0)" })),
        ("clip.mp4", UploadFields(cameraModel: String(repeating: "c", count: 201))),
        ("clip.mp4", UploadFields(takenAt: "2024-10-20T09:30:00")),
        ("clip.mp4", UploadFields(takenAt: "2024-13-40 09:30:00")),
        ("clip.mp4", UploadFields(location: GeoPoint(latitude: 91, longitude: 0))),
        ("clip.mp4", UploadFields(callback: "https://example.com/" + String(repeating: "x", count: 300))),
    ])
    func refusedLocally(name: String, fields: UploadFields) async throws {
        let server = ReplayServer()
        server.on(APIPath.upload, replies: [.json(Fixtures.upload)])
        let error = try await withVideoFile(named: name, size: 10) { path, _ in
            try await server.run { url in
                try await withTestClient(testConfiguration(url)) { client in
                    await clientError { try await client.upload(file: path, fields: fields) }
                }
            }
        }
        guard case .invalidRequest(.upload, _)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(server.requests.isEmpty)
    }

    @Test("a missing file is refused before anything is sent")
    func missingFile() async throws {
        let server = ReplayServer()
        let error = try await server.run { url in
            try await withTestClient(testConfiguration(url)) { client in
                await clientError { try await client.upload(file: "/nonexistent/clip.mp4") }
            }
        }
        guard case .invalidRequest(.upload, let reason)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(reason.contains("/nonexistent/clip.mp4") && server.requests.isEmpty)
    }

    @Test("a refused upload (0429, 503) is sent again; a failed one (500, 0409) is not")
    func uploadRetries() async throws {
        for (first, expectedRequests, succeeds) in [
            (Reply.envelope("0429", APIMessage.rateLimited), 2, true),
            (.json(Fixtures.serviceUnavailable, status: .serviceUnavailable), 2, true),
            (.json(Fixtures.serviceUnavailable, status: .internalServerError), 1, false),
            (.envelope("0001", APIMessage.networkAbnormal), 1, false),
            (.envelope("0409", "duplicate request"), 1, false),
        ] {
            let server = ReplayServer()
            server.on(APIPath.upload, replies: [first, .json(Fixtures.upload)])
            let events = Mutex<[UploadProgress]>([])
            let outcome = try await withVideoFile(size: 50_000) { path, _ in
                try await server.run { url in
                    try await withTestClient(testConfiguration(url)) { client -> String? in
                        do {
                            return try await client.upload(file: path) { event in events.withLock { $0.append(event) } }.videoNo
                        } catch {
                            expectNoKey(in: error)
                            return nil
                        }
                    }
                }
            }
            #expect(server.requests.count == expectedRequests, "after \(first.status)")
            #expect((outcome != nil) == succeeds)
            if succeeds {
                #expect(events.withLock { $0.contains { if case .retrying = $0 { true } else { false } } })
                // Each attempt sent the whole file again.
                #expect(server.requests.allSatisfy { $0.body.readableBytes > 50_000 })
            }
        }
    }

    @Test("uploads wait for the upload rate limit and say so")
    func uploadPacing() async throws {
        let server = ReplayServer()
        server.on(APIPath.upload, replies: [.json(Fixtures.upload)])
        var pacing = Pacing.unlimited
        pacing[.upload] = RateLimit(requests: 1, perSeconds: 0.4)
        let waits = Mutex<[Duration]>([])
        let started = ContinuousClock.now
        try await withVideoFile(size: 1_000) { path, _ in
            try await server.run { url in
                try await withTestClient(testConfiguration(url, pacing: pacing)) { client in
                    for _ in 0..<2 {
                        _ = try await client.upload(file: path) { event in
                            if case .waitingForRateLimit(let wait) = event { waits.withLock { $0.append(wait) } }
                        }
                    }
                }
            }
        }
        #expect(ContinuousClock.now - started >= .milliseconds(390))
        #expect(waits.withLock { $0.count } == 1)
        #expect(server.requests.count == 2)
    }
}
