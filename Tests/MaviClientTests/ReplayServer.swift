import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A request as the replay server received it.
struct RecordedRequest: Sendable {
    var method: HTTPRequest.Method
    var path: String
    /// The request target as sent, query encoding included.
    var uri: String
    var query: [String: [String]]
    var headers: HTTPFields
    var body: ByteBuffer
    var arrival: ContinuousClock.Instant

    var authorization: String? { headers[.authorization] }
    var bodyText: String { String(buffer: body) }
    var bodyData: Data { Data(body.readableBytesView) }
    func queryValue(_ name: String) -> String? { query[name]?.first }
}

/// A small HTTP server on loopback that answers with reply bodies written from the service's
/// documentation, scripted per path by each test, and records every request it receives.
final class ReplayServer: Sendable {
    typealias Handler = @Sendable (_ request: RecordedRequest, _ call: Int) async throws -> Response

    private struct State {
        var handlers: [String: Handler] = [:]
        var log: [RecordedRequest] = []
    }

    private let state = Mutex(State())

    /// Answers requests to `path` with `handler`; `call` counts from 0 for that path.
    func on(_ path: String, _ handler: @escaping Handler) {
        state.withLock { $0.handlers[path] = handler }
    }

    /// Answers requests to `path` with these replies in turn, repeating the last one.
    func on(_ path: String, replies: [Reply]) {
        on(path) { _, call in replies[min(call, replies.count - 1)].response() }
    }

    var requests: [RecordedRequest] { state.withLock { $0.log } }

    func requests(to path: String) -> [RecordedRequest] { requests.filter { $0.path == path } }

    fileprivate func respond(to request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 256 << 20)
        let components = URLComponents(string: request.uri.description)
        var query: [String: [String]] = [:]
        for item in components?.queryItems ?? [] { query[item.name, default: []].append(item.value ?? "") }
        let recorded = RecordedRequest(
            method: request.method, path: components?.path ?? request.uri.path, uri: request.uri.description, query: query,
            headers: request.headers, body: body, arrival: .now
        )
        let (handler, call): (Handler?, Int) = state.withLock { state in
            state.log.append(recorded)
            return (state.handlers[recorded.path], state.log.filter { $0.path == recorded.path }.count - 1)
        }
        guard let handler else {
            return Reply.json(Fixtures.notFoundInfrastructure, status: .notFound).response()
        }
        return try await handler(recorded, call)
    }

    /// Runs `body` with the server listening on a free loopback port; the server is stopped
    /// when `body` returns or throws.
    func run<Result: Sendable>(_ body: (URL) async throws -> Result) async throws -> Result {
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            responder: CallbackResponder<BasicRequestContext> { [self] request, _ in try await self.respond(to: request) },
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "replay-server", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                try await app.runService(gracefulShutdownSignals: [])
                return nil
            }
            defer { group.cancelAll() }
            let port = try await firstValue(of: ports, within: .seconds(10), what: "the replay server to start")
            return try await body(URL(string: "http://127.0.0.1:\(port)")!)
        }
    }
}

/// A scripted reply.
struct Reply: Sendable {
    var status: HTTPResponse.Status = .ok
    var headers: HTTPFields = [:]
    var body: ByteBuffer = ByteBuffer()
    /// Send the body in pieces of this size with chunked transfer encoding (no Content-Length).
    var chunkSize: Int?

    func response() -> Response {
        var headers = headers
        if let chunkSize {
            let pieces = stride(from: 0, to: body.readableBytes, by: max(1, chunkSize)).map {
                body.getSlice(at: body.readerIndex + $0, length: min(chunkSize, body.readableBytes - $0))!
            }
            headers[.transferEncoding] = "chunked"
            return Response(status: status, headers: headers, body: ResponseBody { writer in
                for piece in pieces { try await writer.write(piece) }
                try await writer.finish(nil)
            })
        }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: body))
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Reply {
        Reply(status: status, headers: [.contentType: "application/json"], body: ByteBuffer(string: text))
    }

    static func envelope(_ code: String, _ msg: String, data: String = "null", status: HTTPResponse.Status = .ok) -> Reply {
        let ok = code == "0000"
        return json(#"{"code":"\#(code)","msg":"\#(msg)","data":\#(data),"success":\#(ok),"failed":\#(!ok)}"#, status: status)
    }

    static func html(_ text: String, status: HTTPResponse.Status) -> Reply {
        Reply(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: ByteBuffer(string: text))
    }

    static func bytes(_ bytes: [UInt8], chunkSize: Int? = 16_384, headers: HTTPFields = [.contentType: "application/octet-stream"]) -> Reply {
        Reply(status: .ok, headers: headers, body: ByteBuffer(bytes: bytes), chunkSize: chunkSize)
    }
}

/// The first value of `stream`, or an error when none comes in time.
func firstValue<Value: Sendable>(of stream: AsyncStream<Value>, within limit: Duration, what: String) async throws -> Value {
    try await withThrowingTaskGroup(of: Value?.self) { group in
        group.addTask {
            for await value in stream { return value }
            return nil
        }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let value = try await group.next() ?? nil else {
            throw TestFailure("timed out waiting for \(what)")
        }
        return value
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
