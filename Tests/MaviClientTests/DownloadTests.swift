import Foundation
import Hummingbird
import MaviAPI
@testable import MaviClient
import Synchronization
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite("Downloading", .timeLimit(.minutes(1)))
struct DownloadTests {
    private let file = Fixtures.bytes(count: 300_000)

    private func download(from server: ReplayServer, configuration: (URL) -> ClientConfiguration = { testConfiguration($0) }) async throws -> Result<[UInt8], MaviClientError> {
        try await server.run { url in
            try await withTestClient(configuration(url)) { client in
                do {
                    return .success(try await readAll(client.download(videoNo: "VI1")))
                } catch let error as MaviClientError {
                    expectNoKey(in: error)
                    return .failure(error)
                }
            }
        }
    }

    @Test("a chunked octet-stream arrives whole, in order, after a documented request")
    func chunkedDownload() async throws {
        let server = ReplayServer()
        server.on(APIPath.download, replies: [.bytes(file, chunkSize: 10_000)])
        let result = try await download(from: server)
        #expect(try result.get() == file)
        let request = try #require(server.requests.first)
        #expect(request.method == .post && request.authorization == Fixtures.testKey)
        let body = try #require(try JSONSerialization.jsonObject(with: request.bodyData) as? [String: String])
        #expect(body == ["video_no": "VI1", "unique_id": "test-space"])
    }

    @Test("an empty file is an empty stream")
    func emptyFile() async throws {
        let server = ReplayServer()
        server.on(APIPath.download, replies: [.bytes([], chunkSize: nil)])
        #expect(try await download(from: server).get() == [])
    }

    @Test("JSON where bytes were expected is a typed error, not retried")
    func jsonInsteadOfBytes() async throws {
        let server = ReplayServer()
        server.on(APIPath.download, replies: [.envelope("0001", APIMessage.downloadFailed)])
        let result = try await download(from: server)
        guard case .failure(.jsonInsteadOfBytes(let failure)) = result else { Issue.record("got \(result)"); return }
        #expect(failure == APIFailure(endpoint: .download, code: "0001", message: APIMessage.downloadFailed))
        #expect(result.failureErrno == ENOENT)
        #expect(server.requests.count == 1)
    }

    @Test("JSON with a meaningful code keeps its meaning: 0429 is retried, 0401 is not")
    func jsonCodes() async throws {
        let limited = ReplayServer()
        limited.on(APIPath.download, replies: [.envelope("0429", APIMessage.rateLimited), .bytes(file)])
        #expect(try await download(from: limited).get() == file)
        #expect(limited.requests.count == 2)

        let refused = ReplayServer()
        refused.on(APIPath.download, replies: [.envelope("0401", APIMessage.unauthorized)])
        guard case .failure(.unauthorized) = try await download(from: refused) else { Issue.record("not unauthorized"); return }
        #expect(refused.requests.count == 1)
    }

    @Test("an HTML page with status 200 is not taken for the file")
    func htmlInsteadOfBytes() async throws {
        let server = ReplayServer()
        server.on(APIPath.download, replies: [.html("<html>login</html>", status: .ok)])
        guard case .failure(.unexpectedContentType(.download, let type)) = try await download(from: server) else {
            Issue.record("not rejected"); return
        }
        #expect(type.hasPrefix("text/html"))
    }

    @Test("a 503 before the stream is retried")
    func retriedBeforeBytes() async throws {
        let server = ReplayServer()
        server.on(APIPath.download, replies: [.json(Fixtures.serviceUnavailable, status: .serviceUnavailable), .bytes(file)])
        #expect(try await download(from: server).get() == file)
        #expect(server.requests.count == 2)
    }

    /// Downloads from a raw server and returns the bytes read before the error, and the error.
    private func rawDownload(
        _ server: RawHTTPServer, expectedLength: Int64? = nil, retry: RetryPolicy = fastRetry, idleRead: Duration = .seconds(10),
        clock: TimeSource = .continuous, received: ReceivedBytes = ReceivedBytes()
    ) async throws -> ([UInt8], MaviClientError?) {
        // Patient by default: a loaded machine must not turn a slow reply into a timeout.
        let timeouts = Timeouts(connect: .seconds(2), request: .seconds(10), idleRead: idleRead, connectionIdle: .seconds(30))
        return try await server.run { url in
            try await withTestClient(testConfiguration(url, retry: retry, timeouts: timeouts, clock: clock)) { client in
                do {
                    let stream = try await client.download(videoNo: "VI1", expectedLength: expectedLength)
                    for try await chunk in stream { received.append(chunk) }
                    return (received.bytes, nil)
                } catch let error as MaviClientError {
                    expectNoKey(in: error)
                    return (received.bytes, error)
                }
            }
        }
    }

    /// The bytes a download has handed over so far, readable while it goes on.
    final class ReceivedBytes: Sendable {
        private let state = Mutex<[UInt8]>([])
        func append(_ chunk: ByteBuffer) { state.withLock { $0 += chunk.readableBytesView } }
        var bytes: [UInt8] { state.withLock { $0 } }
    }

    private let chunkedHead = RawHTTPServer.Step.head(["Content-Type: application/octet-stream", "Transfer-Encoding: chunked"])

    @Test("a chunked body cut mid-way is an error, not a short file")
    func cutChunkedStream() async throws {
        let server = RawHTTPServer([chunkedHead, .chunk("hello "), .pause(.milliseconds(50)), .chunk("world"), .send("ff\r\nabc")])
        let (bytes, error) = try await rawDownload(server)
        guard case .streamCut(.download, let received, nil, _)? = error else { Issue.record("got \(String(describing: error))"); return }
        // What was buffered when the connection dropped may be discarded with it, and the start of
        // the cut chunk may come through: either way, what the caller got is the start of the file.
        #expect(received >= 6 && bytes.count >= 6)
        #expect("hello worldabc".hasPrefix(String(decoding: bytes, as: UTF8.self)))
        #expect(server.connectionCount == 1, "bytes were delivered: the caller decides about retrying")
    }

    @Test("a complete chunked body is not mistaken for a cut one")
    func completeChunkedStream() async throws {
        let server = RawHTTPServer([chunkedHead, .chunk("hello "), .pause(.milliseconds(20)), .chunk("world"), .lastChunk, .stall])
        let (bytes, error) = try await rawDownload(server)
        #expect(error == nil && String(decoding: bytes, as: UTF8.self) == "hello world")
    }

    @Test("a body shorter than its Content-Length is an error")
    func shortContentLength() async throws {
        let server = RawHTTPServer([.head(["Content-Type: application/octet-stream", "Content-Length: 1000"]), .send(String(repeating: "x", count: 400))])
        let (_, error) = try await rawDownload(server)
        guard case .streamCut(.download, _, _, _)? = error else { Issue.record("got \(String(describing: error))"); return }
    }

    @Test("a body delimited by the connection's end is checked against the expected length")
    func connectionDelimitedBody() async throws {
        let script: [RawHTTPServer.Step] = [.head(["Content-Type: application/octet-stream", "Connection: close"]), .send(String(repeating: "x", count: 500))]
        let (short, error) = try await rawDownload(RawHTTPServer(script), expectedLength: 1000)
        guard case .streamCut(.download, 500, 1000, _)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(short.count == 500)

        let (whole, noError) = try await rawDownload(RawHTTPServer(script), expectedLength: 500)
        #expect(noError == nil && whole.count == 500)
    }

    @Test("a failure before the first byte is retried; the caller never sees a partial start")
    func cutBeforeFirstByte() async throws {
        let server = RawHTTPServer([chunkedHead])
        let (bytes, error) = try await rawDownload(server)
        guard case .streamCut(.download, 0, _, _)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(bytes.isEmpty && server.connectionCount == fastRetry.maxAttempts)
    }

    @Test("a stream that stalls mid-way fails at the idle timeout, not before")
    func stalledStream() async throws {
        let server = RawHTTPServer([chunkedHead, .chunk("first bytes"), .stall])
        let clock = ManualClock()
        let received = ReceivedBytes()
        // The clock stands still until the first bytes are in; from then on every wait on it ends
        // at its time.
        let ((bytes, error), sleeps) = try await clock.run(startWhen: { received.bytes.count == "first bytes".utf8.count }) {
            try await rawDownload(server, idleRead: .milliseconds(300), clock: TimeSource(clock), received: received)
        }
        guard case .timeout(.download, .idleRead)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(bytes == Array("first bytes".utf8))
        #expect(error?.suggestedErrno == ETIMEDOUT)
        // The wait that failed lasted exactly the idle limit.
        #expect(sleeps.last == .milliseconds(300), "\(sleeps)")
        #expect(sleeps.allSatisfy { $0 == .milliseconds(300) }, "\(sleeps)")
    }

    @Test("a stream that stalls before its first byte is retried, then times out")
    func stalledBeforeFirstByte() async throws {
        let server = RawHTTPServer([chunkedHead, .stall])
        let retry = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1), maxDelay: .milliseconds(5), deadline: .seconds(10))
        let clock = ManualClock()
        let ((_, error), sleeps) = try await clock.run {
            try await rawDownload(server, retry: retry, idleRead: .milliseconds(200), clock: TimeSource(clock))
        }
        guard case .timeout(.download, .idleRead)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(server.connectionCount == 2)
        // Each attempt waited exactly the idle limit for its first byte; between them, a backoff.
        #expect(sleeps.filter { $0 == .milliseconds(200) }.count == 2, "\(sleeps)")
        #expect(sleeps.allSatisfy { $0 == .milliseconds(200) || $0 <= .milliseconds(5) }, "\(sleeps)")
    }

    @Test("a server that never answers times out waiting for the response head")
    func noResponseHead() async throws {
        let server = RawHTTPServer([.stall])
        let retry = RetryPolicy.never
        let timeouts = Timeouts(connect: .seconds(2), request: .milliseconds(300), idleRead: .seconds(2), connectionIdle: .seconds(20))
        let error = try await server.run { url in
            try await withTestClient(testConfiguration(url, retry: retry, timeouts: timeouts)) { client in
                await clientError { try await client.download(videoNo: "VI1") }
            }
        }
        guard case .timeout(.download, .response)? = error else { Issue.record("got \(String(describing: error))"); return }
    }

    @Test("time the caller spends not reading does not count as idle")
    func slowReader() async throws {
        let server = ReplayServer()
        server.on(APIPath.download, replies: [.bytes(Array(file.prefix(40_000)), chunkSize: 8_000)])
        // One pause well past the idle timeout, which must not count it; the timeout itself is long
        // enough that a loaded machine never trips it on the reads that follow.
        let idle = Duration.seconds(4)
        let timeouts = Timeouts(connect: .seconds(2), request: .seconds(10), idleRead: idle, connectionIdle: .seconds(30))
        let bytes = try await server.run { url in
            try await withTestClient(testConfiguration(url, timeouts: timeouts)) { client in
                var bytes: [UInt8] = []
                var paused = false
                for try await chunk in try await client.download(videoNo: "VI1") {
                    bytes += chunk.readableBytesView
                    if !paused {
                        paused = true
                        try await Task.sleep(for: idle * 3 / 2)
                    }
                }
                return bytes
            }
        }
        #expect(bytes == Array(file.prefix(40_000)))
    }

    @Test("a stored object by bucket and blob, the blob's slashes unencoded")
    func downloadObject() async throws {
        let server = ReplayServer()
        server.on(APIPath.downloadV2) { request, _ in
            guard request.queryValue("bucket") == "mavi-resource" else {
                return Reply.envelope("0001", APIMessage.bucketEmpty).response()
            }
            guard request.queryValue("blob") == "dir/VI1 a+b.mp4" else {
                return Reply.envelope("0001", APIMessage.resourceMissing).response()
            }
            return Reply.bytes(Array(Fixtures.bytes(count: 5_000)), chunkSize: nil, headers: [
                .contentType: "application/octet-stream", .contentDisposition: "attachment; filename=\"VI1.mp4\"",
            ]).response()
        }
        let (bytes, missing) = try await server.run { url in
            try await withTestClient(testConfiguration(url)) { client in
                let bytes = try await readAll(client.downloadObject(bucket: "mavi-resource", blob: "dir/VI1 a+b.mp4"))
                let missing = await clientError { try await client.downloadObject(bucket: "mavi-resource", blob: "nope.mp4") }
                return (bytes, missing)
            }
        }
        #expect(bytes == Fixtures.bytes(count: 5_000))
        let request = try #require(server.requests.first)
        #expect(request.method == .get && request.authorization == Fixtures.testKey)
        #expect(request.uri.contains("blob=dir/VI1%20a%2Bb.mp4"))
        guard case .jsonInsteadOfBytes(let failure)? = missing else { Issue.record("got \(String(describing: missing))"); return }
        #expect(failure.message == APIMessage.resourceMissing && missing?.suggestedErrno == ENOENT)
    }
}

extension Result where Failure == MaviClientError {
    var failureErrno: Int32? {
        if case .failure(let error) = self { return error.suggestedErrno }
        return nil
    }
}
