import Foundation
import MaviAPI
@testable import MaviClient
import Testing
import TestSupport

@Suite("Against mavifs serve: upload_url", .timeLimit(.minutes(1)))
struct LiveUploadURLTests {
    @Test("the server fetches the URL, processes the video, and serves the same bytes")
    func fetched() async throws {
        let source = try await VideoFixtures.sharedMP4()
        try await withLiveLibrary { library in
            // The server's own file URL of a first upload is a public http URL for the second.
            let original = try await library.uploadAndWait(source)
            let url = try #require(original.videoURL.flatMap(URL.init(string:)))

            let reply = try await library.client.upload(url: url, fields: UploadFields(tags: ["mirrored"], cameraModel: "GoPro HERO12"))
            #expect(reply.videoStatus == .unparsed && reply.videoNo != original.videoNo)
            let video = try await library.waitUntilProcessed(reply.videoNo)
            #expect(video.status == .parsed && video.size == original.size)
            #expect(video.tags == ["mirrored", "api"] && video.cameraModel == "GoPro HERO12")
            #expect(video.width == original.width && video.height == original.height)

            let (sha, _) = try await digest(of: library.client.download(videoNo: reply.videoNo))
            #expect(sha == (try VideoDigest.hex(ofFile: source)))
            #expect(library.stats.requests(.uploadURL) == 1)
        }
    }

    @Test("a URL that cannot be fetched ends FAIL with a cause")
    func unreachable() async throws {
        try await withRefusingPort { refusing in
            try await withLiveLibrary { library in
                let reply = try await library.client.upload(url: refusing.appendingPathComponent("clip.mp4"))
                let video = try await library.waitUntilProcessed(reply.videoNo)
                #expect(video.status.isFailed && video.cause?.isEmpty == false)
                #expect(video.videoURL == nil, "there is no file to serve")
            }
        }
    }

    @Test("a URL that is not http(s) is refused before anything is sent")
    func refusedLocally() async throws {
        try await withLiveLibrary { library in
            let error = await clientError { try await library.client.upload(url: URL(fileURLWithPath: "/etc/passwd")) }
            guard case .invalidRequest(.uploadURL, _)? = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(library.stats.requests(.uploadURL) == 0)
        }
    }

    @Test("upload_url waits for the same rate limit as upload")
    func sharedPacing() async throws {
        let source = try await VideoFixtures.sharedMP4()
        try await withLiveLibrary(client: { $0.pacing[.upload] = RateLimit(requests: 1, perSeconds: 0.5) }) { library in
            let started = ContinuousClock.now
            let first = try await library.client.upload(file: source)
            let url = try #require(try await library.client.getMetadata(videoNo: first.videoNo)?.videoURL.flatMap(URL.init(string:)))
            _ = try await library.client.upload(url: url)
            #expect(ContinuousClock.now - started >= .milliseconds(500))
        }
    }
}
