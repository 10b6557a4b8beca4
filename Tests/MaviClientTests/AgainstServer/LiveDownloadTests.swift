import Foundation
import MaviAPI
@testable import MaviClient
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite("Against mavifs serve: download", .timeLimit(.minutes(1)))
struct LiveDownloadTests {
    /// A 1.2 MB file of known bytes, seeded as one video: it arrives in several chunks.
    static func withSeededFile<Result>(
        rangeRequests: Bool = true,
        _ body: (LiveLibrary, Video, Data) async throws -> Result
    ) async throws -> Result {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let source = directory.appending("source.mp4")
        try await blocking("writing the source file") { try VideoFixtures.makeNonVideo(at: source, count: 1_200_000, seed: 11) }
        let bytes = try contents(of: source)
        return try await withLiveLibrary(server: { $0.rangeRequests = rangeRequests }) { library in
            let videoNo = try #require(try await library.seed(1, sourceFile: source).first)
            let video = try #require(try await library.client.getMetadata(videoNo: videoNo))
            return try await body(library, video, bytes)
        }
    }

    @Test("download streams the original, byte for byte")
    func download() async throws {
        try await Self.withSeededFile { library, video, bytes in
            #expect(video.size == Int64(bytes.count))
            let stream = try await library.client.download(videoNo: video.videoNo, expectedLength: video.size)
            #expect(stream.contentLength == nil, "the download is chunked, without Content-Length")
            let downloaded = try await data(of: stream)
            #expect(downloaded == bytes)
            #expect(library.stats.downloads[video.videoNo] == 1)
        }
    }

    @Test("an uploaded MP4 downloads with the source's length and sha256")
    func uploadedVideo() async throws {
        try await withLiveLibrary { library in
            let source = try await VideoFixtures.sharedMP4()
            let video = try await library.uploadAndWait(source)
            let (sha, count) = try await digest(of: library.client.download(videoNo: video.videoNo, expectedLength: video.size))
            let expected = try VideoDigest.hex(ofFile: source)
            #expect(Int64(count) == video.size && sha == expected)
            let head = try await library.client.download(videoNo: video.videoNo).collect(upTo: 64 << 20)
            #expect(Array(head.readableBytesView.dropFirst(4).prefix(4)) == Array("ftyp".utf8), "an ISO-BMFF file")
        }
    }

    @Test("the bucket/blob object route gives the same bytes")
    func object() async throws {
        try await Self.withSeededFile { library, video, bytes in
            let bucket = try #require(video.bucket), blob = try #require(video.blob)
            let downloaded = try await data(of: library.client.downloadObject(bucket: bucket, blob: blob, expectedLength: video.size))
            #expect(downloaded == bytes)
            #expect(library.stats.blobDownloads[video.videoNo] == 1)
        }
    }

    @Test("an unknown id, or one from another namespace, is a typed error read from the JSON envelope")
    func unknownID() async throws {
        try await Self.withSeededFile { library, video, _ in
            let unknown = await clientError { try await library.client.download(videoNo: "VI404") }
            guard case .jsonInsteadOfBytes(let failure)? = unknown else { Issue.record("got \(String(describing: unknown))"); return }
            #expect(failure == APIFailure(endpoint: .download, code: APICode.invalidParameter.rawValue, message: APIMessage.downloadFailed))
            #expect(unknown?.suggestedErrno == ENOENT)
            #expect(library.stats.requests(.download) == 1, "not retried")

            let elsewhere = try await library.withClient({ $0.namespace = "another-space" }) { other in
                await clientError { try await other.download(videoNo: video.videoNo) }
            }
            guard case .jsonInsteadOfBytes? = elsewhere else { Issue.record("got \(String(describing: elsewhere))"); return }
            #expect(library.stats.downloads[video.videoNo] == nil, "nothing was streamed")
        }
    }

    @Test("an unknown object is a typed error too")
    func unknownObject() async throws {
        try await Self.withSeededFile { library, video, _ in
            let error = await clientError { try await library.client.downloadObject(bucket: try #require(video.bucket), blob: "VI404.mp4") }
            guard case .jsonInsteadOfBytes(let failure)? = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(failure.endpoint == .object && failure.message == APIMessage.resourceMissing)
        }
    }
}
