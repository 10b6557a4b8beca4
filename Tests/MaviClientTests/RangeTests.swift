import Foundation
import Hummingbird
import MaviAPI
@testable import MaviClient
import Synchronization
import Testing

@Suite("Ranged reads", .timeLimit(.minutes(1)))
struct RangeTests {
    private let file = Fixtures.bytes(count: 100_000)

    /// A CDN-like server for `/video.mp4` that honours `Range` when `honour` is set.
    private func cdn(honour: Bool, contentRange: (@Sendable (Int, Int) -> String)? = nil) -> ReplayServer {
        let server = ReplayServer()
        let file = file
        server.on("/video.mp4") { request, _ in
            guard honour, let header = request.headers[.range], header.hasPrefix("bytes=") else {
                return Reply(status: .ok, headers: [.contentType: "video/mp4", .contentLength: "\(file.count)"], body: ByteBuffer(bytes: file)).response()
            }
            let bounds = header.dropFirst(6).split(separator: "-").compactMap { Int($0) }
            let first = bounds[0]
            guard first < file.count else {
                return Reply(status: .rangeNotSatisfiable, headers: [.contentRange: "bytes */\(file.count)"]).response()
            }
            let last = min(bounds[1], file.count - 1)
            let value = contentRange?(first, last) ?? "bytes \(first)-\(last)/\(file.count)"
            return Reply(
                status: .partialContent, headers: [.contentType: "video/mp4", .contentRange: value],
                body: ByteBuffer(bytes: file[first...last])
            ).response()
        }
        return server
    }

    private func fetch(_ server: ReplayServer, _ range: ClosedRange<Int64>, host: String = "127.0.0.1") async throws -> Result<(RangeReply, [UInt8]), MaviClientError> {
        try await server.run { url in
            try await withTestClient(testConfiguration(url)) { client in
                do {
                    let target = URL(string: "http://\(host):\(url.port!)/video.mp4")!
                    let reply = try await client.fetchRange(target, range: range)
                    switch reply {
                    case .partial(_, let stream): return .success((reply, try await readAll(stream)))
                    case .ignored(let stream): return .success((reply, Array(try await stream.collect(upTo: 1 << 20).readableBytesView)))
                    }
                } catch let error as MaviClientError {
                    expectNoKey(in: error)
                    return .failure(error)
                }
            }
        }
    }

    @Test("206 with a matching Content-Range gives exactly the bytes asked for")
    func honoured() async throws {
        let server = cdn(honour: true)
        let (reply, bytes) = try await fetch(server, 1_000...1_999).get()
        guard case .partial(let contentRange, _) = reply else { Issue.record("got \(reply)"); return }
        #expect(contentRange == ContentRange(first: 1_000, last: 1_999, completeLength: 100_000))
        #expect(bytes == Array(file[1_000...1_999]))
        #expect(server.requests.first?.headers[.range] == "bytes=1000-1999")
    }

    @Test("a range past the end of the file is answered up to its end")
    func rangePastEnd() async throws {
        let (reply, bytes) = try await fetch(cdn(honour: true), 99_000...200_000).get()
        guard case .partial(let contentRange, _) = reply else { Issue.record("got \(reply)"); return }
        #expect(contentRange.last == 99_999 && bytes == Array(file[99_000...]))
    }

    @Test("200 to a ranged request says the range was ignored, with the whole body from byte 0")
    func ignored() async throws {
        let (reply, bytes) = try await fetch(cdn(honour: false), 1_000...1_999).get()
        guard case .ignored(let stream) = reply else { Issue.record("got \(reply)"); return }
        #expect(stream.contentLength == 100_000 && bytes == file)
    }

    @Test("416 is reported with the file's length")
    func notSatisfiable() async throws {
        let result = try await fetch(cdn(honour: true), 200_000...200_010)
        guard case .failure(.rangeNotSatisfiable(.range, 100_000)) = result else { Issue.record("got \(result)"); return }
    }

    @Test("206 whose Content-Range does not match is refused")
    func mismatch() async throws {
        let result = try await fetch(cdn(honour: true, contentRange: { first, last in "bytes \(first + 1)-\(last)/100000" }), 10...19)
        guard case .failure(.rangeMismatch(.range, 10...19, let header)) = result else { Issue.record("got \(result)"); return }
        #expect(header == "bytes 11-19/100000")

        let missing = try await fetch(cdn(honour: true, contentRange: { _, _ in "" }), 10...19)
        guard case .failure(.rangeMismatch) = missing else { Issue.record("got \(missing)"); return }
    }

    @Test("the key goes to the API's origin only, never to another host")
    func keyOnlyOnOrigin() async throws {
        let server = cdn(honour: true)
        _ = try await fetch(server, 0...9, host: "localhost").get()
        #expect(server.requests.first?.authorization == nil)

        let same = cdn(honour: true)
        _ = try await fetch(same, 0...9).get()
        #expect(same.requests.first?.authorization == Fixtures.testKey)
    }

    @Test("the object route is fetched by range with the key, and a JSON refusal is an error")
    func objectRoute() async throws {
        let server = ReplayServer()
        server.on(APIPath.downloadV2) { request, _ in
            request.queryValue("blob") == "VI1.mp4"
                ? Reply(status: .partialContent, headers: [.contentType: "application/octet-stream", .contentRange: "bytes 0-3/10"], body: ByteBuffer(string: "abcd")).response()
                : Reply.envelope("0001", APIMessage.resourceMissing).response()
        }
        let (bytes, error) = try await server.run { url in
            try await withTestClient(testConfiguration(url)) { client in
                guard case .partial(_, let stream) = try await client.fetchRange(client.objectURL(bucket: "b", blob: "VI1.mp4"), range: 0...3) else {
                    throw TestFailure("range not honoured")
                }
                let bytes = try await readAll(stream)
                let error = await clientError { try await client.fetchRange(client.objectURL(bucket: "b", blob: "gone.mp4"), range: 0...3) }
                return (bytes, error)
            }
        }
        #expect(bytes == Array("abcd".utf8))
        #expect(server.requests.first?.authorization == Fixtures.testKey)
        guard case .jsonInsteadOfBytes(let failure)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(failure.endpoint == .object)
    }

    @Test("probing tells honoured from ignored")
    func probe() async throws {
        for (honour, expected) in [(true, RangeSupport.honoured(completeLength: 100_000)), (false, .ignored(contentLength: 100_000))] {
            let server = cdn(honour: honour)
            let support = try await server.run { url in
                try await withTestClient(testConfiguration(url)) { client in
                    try await client.probeRange(URL(string: "\(url.absoluteString)/video.mp4")!)
                }
            }
            #expect(support == expected)
        }
    }

    @Test("dropping an ignored range's stream closes the connection instead of reading the whole file")
    func droppedStreamIsCancelled() async throws {
        let server = ReplayServer()
        let sentBytes = Atomic<Int>(0)
        let aborted = Atomic<Bool>(false)
        server.on("/huge.mp4") { _, _ in
            // 1 GiB, produced as it is read: only a client that reads it all would get it all.
            Response(status: .ok, headers: [.contentType: "video/mp4", .contentLength: "\(1 << 30)"], body: ResponseBody(contentLength: 1 << 30) { writer in
                let piece = ByteBuffer(repeating: 7, count: 1 << 16)
                do {
                    for _ in 0..<(1 << 14) {
                        try await writer.write(piece)
                        sentBytes.add(piece.readableBytes, ordering: .relaxed)
                    }
                    try await writer.finish(nil)
                } catch {
                    aborted.store(true, ordering: .relaxed)
                    throw error
                }
            })
        }
        try await server.run { url in
            try await withTestClient(testConfiguration(url)) { client in
                let reply = try await client.fetchRange(URL(string: "\(url.absoluteString)/huge.mp4")!, range: 0...99)
                guard case .ignored(let stream) = reply else { throw TestFailure("expected the range to be ignored") }
                var iterator = stream.makeAsyncIterator()
                _ = try await iterator.next()
            }
            // The client is gone; the server must notice soon, long before 1 GiB is written.
            let deadline = ContinuousClock.now + .seconds(10)
            while !aborted.load(ordering: .relaxed), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        let wasAborted = aborted.load(ordering: .relaxed)
        let sent = sentBytes.load(ordering: .relaxed)
        #expect(wasAborted)
        // Loopback buffers and a busy machine let a few hundred MiB through before the close is
        // seen; the point is that the client never reads the whole GiB.
        #expect(sent < 768 << 20)
    }

    @Test("Content-Range parsing")
    func contentRangeParsing() {
        #expect(ContentRange(headerValue: "bytes 0-99/1000") == ContentRange(first: 0, last: 99, completeLength: 1000))
        #expect(ContentRange(headerValue: "bytes 5-9/*") == ContentRange(first: 5, last: 9, completeLength: nil))
        #expect(ContentRange(headerValue: "bytes */1000") == nil)
        #expect(ContentRange(headerValue: "bytes 9-5/1000") == nil)
        #expect(ContentRange(headerValue: "bytes 0-999/1000") != nil)
        #expect(ContentRange(headerValue: "bytes 0-1000/1000") == nil)
        #expect(ContentRange(headerValue: "items 0-1/2") == nil)
        #expect(ContentRange.unsatisfiedLength(headerValue: "bytes */1234") == 1234)
        #expect(ContentRange(first: 0, last: 9, completeLength: 10).answers(0...99))
        #expect(!ContentRange(first: 0, last: 9, completeLength: 100).answers(0...99))
        #expect(!ContentRange(first: 0, last: 9, completeLength: nil).answers(0...99))
    }
}
