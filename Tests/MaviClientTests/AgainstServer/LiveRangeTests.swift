import Foundation
import MaviAPI
@testable import MaviClient
import Testing
import TestSupport

@Suite("Against mavifs serve: ranges", .timeLimit(.minutes(1)))
struct LiveRangeTests {
    /// The video's `video_url` and its object URL on the API.
    private func urls(_ library: LiveLibrary, _ video: Video) throws -> [(label: String, url: URL)] {
        let file = try #require(video.videoURL.flatMap(URL.init(string:)))
        let object = library.client.objectURL(bucket: try #require(video.bucket), blob: try #require(video.blob))
        return [("video_url", file), ("object", object)]
    }

    @Test("Range honoured: 206 with exactly the bytes asked for, on the file URL and the object route")
    func honoured() async throws {
        try await LiveDownloadTests.withSeededFile { library, video, bytes in
            let size = Int64(bytes.count)
            for (label, url) in try urls(library, video) {
                // A byte, a small range, one across a 256 KiB server chunk, one past the end.
                for range: ClosedRange<Int64> in [0...0, 1_000...1_999, 262_100...600_000, size - 10...size + 5_000] {
                    let reply = try await library.client.fetchRange(url, range: range)
                    guard case .partial(let contentRange, let stream) = reply else { Issue.record("\(label) \(range): got \(reply)"); continue }
                    let last = min(range.upperBound, size - 1)
                    #expect(contentRange == ContentRange(first: range.lowerBound, last: last, completeLength: size), "\(label) \(range)")
                    let got = try await data(of: stream)
                    #expect(got == bytes[Int(range.lowerBound)...Int(last)], "\(label) \(range)")
                }
                #expect(try await library.client.probeRange(url) == .honoured(completeLength: size), "\(label)")
            }
            #expect(library.stats.fileRequests[video.videoNo] == 5 && library.stats.blobDownloads[video.videoNo] == 5)
        }
    }

    @Test("a range starting past the end is 416 with the file's length")
    func unsatisfiable() async throws {
        try await LiveDownloadTests.withSeededFile { library, video, bytes in
            for (label, url) in try urls(library, video) {
                let error = await clientError { try await library.client.fetchRange(url, range: Int64(bytes.count)...Int64(bytes.count) + 9) }
                guard case .rangeNotSatisfiable(_, let length)? = error else { Issue.record("\(label): got \(String(describing: error))"); continue }
                #expect(length == Int64(bytes.count), "\(label)")
            }
        }
    }

    @Test("with --no-range the reply is 200 from byte 0, reported as ignored")
    func ignored() async throws {
        try await LiveDownloadTests.withSeededFile(rangeRequests: false) { library, video, bytes in
            for (label, url) in try urls(library, video) {
                let reply = try await library.client.fetchRange(url, range: 1_000...1_999)
                guard case .ignored(let stream) = reply else { Issue.record("\(label): got \(reply)"); continue }
                #expect(stream.contentLength == Int64(bytes.count), "\(label)")
                // Read the start only, then drop the stream.
                var iterator = stream.makeAsyncIterator()
                let first = try #require(try await iterator.next())
                #expect(data(first) == bytes.prefix(first.readableBytes), "\(label): the body starts at byte 0")
                #expect(try await library.client.probeRange(url) == .ignored(contentLength: Int64(bytes.count)), "\(label)")
            }
        }
    }
}
