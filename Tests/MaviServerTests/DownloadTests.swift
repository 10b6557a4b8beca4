import Foundation
import MaviAPI
import Testing
import TestSupport

@Suite("download, bucket/blob and file URLs")
struct DownloadTests {
    /// Uploads the shared 2-second MP4 and waits for it to be parsed.
    private func uploadedVideo(_ api: TestAPI) async throws -> (video: Video, source: String) {
        let source = try await SharedVideos.shared.mp4(seconds: 2, width: 320, height: 240)
        let videoNo = try await api.uploadOK(file: source)
        return (try await api.waitUntilProcessed(videoNo), source)
    }

    @Test("POST download streams the original: octet-stream, chunked, no Content-Length, same bytes")
    func downloadStream() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let (video, source) = try await uploadedVideo(api)
            let reply = try await api.download(video.videoNo)
            #expect(reply.status == 200)
            #expect(reply.header("Content-Type") == "application/octet-stream")
            #expect(reply.header("Content-Length") == nil)
            #expect(reply.header("Transfer-Encoding")?.lowercased() == "chunked")
            #expect(reply.body.dropFirst(4).prefix(4) == Data("ftyp".utf8))
            #expect(VideoDigest.hex(of: reply.body) == (try VideoDigest.hex(ofFile: source)))

            // Range is not part of this endpoint: the whole file comes back, 200.
            let ranged = try await api.download(video.videoNo, headers: [("Range", "bytes=0-99")])
            #expect(ranged.status == 200 && ranged.header("Content-Range") == nil)
            #expect(ranged.body.count == reply.body.count)
            #expect(server.server.stats().downloads[video.videoNo] == 2)
        }
    }

    @Test("download failures are JSON envelopes with HTTP 200")
    func downloadFailures() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let (video, _) = try await uploadedVideo(api)
            let cases: [(HTTPReply, String)] = [
                (try await api.download("VI000000000000000001"), APIMessage.downloadFailed),
                (try await api.download(video.videoNo, namespace: "elsewhere"), APIMessage.downloadFailed),
                (try await api.post(APIPath.download, json: "{}"), APIMessage.videoNoEmpty),
                (try await api.post(APIPath.download, json: #"{"video_no":""}"#), APIMessage.videoNoEmpty),
                (try await api.send(.POST, APIPath.download, body: nil), APIMessage.videoNoEmpty),
            ]
            for (reply, message) in cases {
                #expect(reply.status == 200)
                #expect(reply.header("Content-Type") == "application/json")
                let envelope = try reply.envelope()
                #expect(envelope.code == APICode.invalidParameter.rawValue)
                #expect(envelope.msg == message)
            }
            #expect(server.server.stats().downloads.isEmpty)
        }
    }

    @Test("GET download?bucket=&blob= under v1 and v2")
    func bucketBlob() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let (video, source) = try await uploadedVideo(api)
            let blob = try #require(video.blob)
            for base in [APIPath.download, APIPath.downloadV2] {
                let reply = try await api.get("\(base)?bucket=mavi-resource&blob=\(blob)")
                #expect(reply.status == 200)
                #expect(reply.header("Content-Disposition")?.hasPrefix("attachment") == true)
                #expect(reply.header("Content-Length") == String(reply.body.count))
                #expect(VideoDigest.hex(of: reply.body) == (try VideoDigest.hex(ofFile: source)))

                let noBucket = try await api.get("\(base)?blob=\(blob)")
                #expect(try noBucket.envelope().msg == APIMessage.bucketEmpty)
                let emptyBucket = try await api.get("\(base)?bucket=&blob=\(blob)")
                #expect(try emptyBucket.envelope().msg == APIMessage.bucketEmpty)
                let wrongBucket = try await api.get("\(base)?bucket=other&blob=\(blob)")
                #expect(try wrongBucket.envelope().msg == APIMessage.resourceMissing)
                let unknown = try await api.get("\(base)?bucket=mavi-resource&blob=VI1.mp4")
                #expect(try unknown.envelope().msg == APIMessage.resourceMissing)
                #expect(unknown.status == 200)
            }
            #expect(server.server.stats().blobDownloads[video.videoNo] == 2)
        }
    }

    @Test("video_url honours Range: 206 with Content-Range, suffix and open ranges, 416 past the end")
    func rangeRequests() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let (video, source) = try await uploadedVideo(api)
            let original = try Data(contentsOf: URL(fileURLWithPath: source))
            let size = original.count
            let url = try #require(video.videoURL)
            let open = api.withKey(nil)  // file URLs need no key, like CDN links

            let whole = try await open.get(url)
            #expect(whole.status == 200 && whole.body == original)
            #expect(whole.header("Accept-Ranges") == "bytes")
            #expect(whole.header("Content-Length") == String(size))

            let first = try await open.get(url, headers: [("Range", "bytes=0-99")])
            #expect(first.status == 206)
            #expect(first.header("Content-Range") == "bytes 0-99/\(size)")
            #expect(first.body == original.prefix(100))

            let middle = try await open.get(url, headers: [("Range", "bytes=1000-")])
            #expect(middle.status == 206)
            #expect(middle.header("Content-Range") == "bytes 1000-\(size - 1)/\(size)")
            #expect(middle.body == original.dropFirst(1000))

            let suffix = try await open.get(url, headers: [("Range", "bytes=-10")])
            #expect(suffix.status == 206 && suffix.body == original.suffix(10))

            let clamped = try await open.get(url, headers: [("Range", "bytes=\(size - 5)-\(size + 100)")])
            #expect(clamped.status == 206 && clamped.body == original.suffix(5))

            let past = try await open.get(url, headers: [("Range", "bytes=\(size)-")])
            #expect(past.status == 416)
            #expect(past.header("Content-Range") == "bytes */\(size)")

            let head = try await open.send(.HEAD, url)
            #expect(head.status == 200 && head.body.isEmpty)
            #expect(head.header("Content-Length") == String(size))
            #expect(head.header("Last-Modified") != nil)

            #expect(server.server.stats().fileRequests[video.videoNo] == 6)
        }
    }

    @Test("With range requests off the file URL answers 200 with the whole file")
    func noRange() async throws {
        try await ServerHarness.withServer(configure: { $0.rangeRequests = false }) { server async throws in
            let api = TestAPI(server)
            let (video, source) = try await uploadedVideo(api)
            let original = try Data(contentsOf: URL(fileURLWithPath: source))
            let url = try #require(video.videoURL)
            let reply = try await api.withKey(nil).get(url, headers: [("Range", "bytes=0-99")])
            #expect(reply.status == 200)
            #expect(reply.header("Content-Range") == nil)
            #expect(reply.header("Accept-Ranges") == nil)
            #expect(reply.body == original)
            let blob = try await api.get("\(APIPath.downloadV2)?bucket=mavi-resource&blob=\(video.blob!)", headers: [("Range", "bytes=0-99")])
            #expect(blob.status == 200 && blob.body == original)
        }
    }

    @Test("The namespace index lists files as links; HEAD gives sizes; unknown tokens are 404")
    func directoryListing() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let (video, source) = try await uploadedVideo(api)
            let url = try #require(video.videoURL)
            let directory = String(url[..<url.lastIndex(of: "/")!]) + "/"
            let open = api.withKey(nil)
            let index = try await open.get(directory)
            #expect(index.status == 200)
            #expect(index.header("Content-Type")?.hasPrefix("text/html") == true)
            #expect(index.text.contains(#"<a href="\#(video.videoNo).mp4">"#))

            let noSlash = try await open.get(String(directory.dropLast()))
            #expect(noSlash.status == 200 && noSlash.text == index.text)  // the client followed the redirect

            let head = try await open.send(.HEAD, directory + "\(video.videoNo).mp4")
            #expect(head.header("Content-Length") == String(try Data(contentsOf: URL(fileURLWithPath: source)).count))

            let listing = try JSONDecoder().decode([[String: String]].self, from: try await open.get("/_admin/namespaces").body)
            #expect(listing.contains { $0["unique_id"] == "default" && $0["files_url"] == directory })

            #expect(try await open.get("/files/0123456789abcdef0123456789abcdef/").status == 404)
            #expect(try await open.get("/files/0123456789abcdef0123456789abcdef/\(video.videoNo).mp4").status == 404)
            #expect(try await open.get("/covers/0123456789abcdef0123456789abcdef/\(video.videoNo).jpg").status == 404)
        }
    }
}
