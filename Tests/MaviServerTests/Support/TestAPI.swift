import AsyncHTTPClient
import Foundation
import MaviAPI
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Synchronization
import TestSupport

/// One HTTP answer, whole.
struct HTTPReply: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: Data

    func header(_ name: String) -> String? { headers.first(name: name) }

    func envelope<T: Decodable & Sendable>(_ type: T.Type = EmptyPayload.self) throws -> Envelope<T> {
        try JSONDecoder().decode(Envelope<T>.self, from: body)
    }

    /// The body as loosely typed JSON, to check the exact wire shapes (strings vs numbers).
    func json() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: body) as? [String: Any] ?? [:]
    }

    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A minimal client for the server's HTTP surface, speaking the wire format directly so tests
/// check what travels, not what a client library makes of it.
struct TestAPI: Sendable {
    let base: String
    /// Sent as `Authorization`; nil sends none.
    var key: String?

    init(_ server: RunningLibraryServer, key: String? = nil) {
        base = server.baseURL
        self.key = key ?? server.apiKey
    }

    init(base: String, key: String?) {
        self.base = base
        self.key = key
    }

    func withKey(_ key: String?) -> TestAPI { TestAPI(base: base, key: key) }

    func send(
        _ method: HTTPMethod, _ path: String, body: Data? = nil, contentType: String? = "application/json",
        headers: [(String, String)] = [], timeout: TimeAmount = .seconds(30)
    ) async throws -> HTTPReply {
        var request = HTTPClientRequest(url: path.hasPrefix("http") ? path : base + path)
        request.method = method
        if let key { request.headers.add(name: "Authorization", value: key) }
        if let body {
            request.body = .bytes(ByteBuffer(data: body))
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        }
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return HTTPReply(status: Int(response.status.code), headers: response.headers, body: Data(buffer: bytes))
    }

    func post(_ path: String, json: String) async throws -> HTTPReply {
        try await send(.POST, path, body: Data(json.utf8))
    }

    func get(_ path: String, headers: [(String, String)] = []) async throws -> HTTPReply {
        try await send(.GET, path, headers: headers)
    }

    func list(_ json: String = "{}") async throws -> Envelope<VideoPage> {
        try await post(APIPath.listVideos, json: json).envelope(VideoPage.self)
    }

    func metadata(_ videoNo: String, namespace: String? = nil) async throws -> Envelope<Video> {
        var path = APIPath.getMetadata + "?video_no=\(videoNo)"
        if let namespace { path += "&unique_id=\(namespace)" }
        return try await get(path).envelope(Video.self)
    }

    func download(_ videoNo: String, namespace: String? = nil, headers: [(String, String)] = []) async throws -> HTTPReply {
        var body = ["video_no": videoNo]
        if let namespace { body["unique_id"] = namespace }
        return try await send(.POST, APIPath.download, body: try JSONEncoder().encode(body), headers: headers)
    }

    func delete(_ ids: [String], namespace: String? = nil) async throws -> HTTPReply {
        let path = APIPath.deleteVideos + (namespace.map { "?unique_id=\($0)" } ?? "")
        return try await send(.POST, path, body: try JSONEncoder().encode(ids))
    }

    /// Uploads `file` as the multipart `file` part, with text `fields` in order.
    func upload(
        file: String, fileName: String? = nil, partContentType: String? = "video/mp4",
        fields: [(String, String)] = [], path: String = APIPath.upload
    ) async throws -> HTTPReply {
        let form = MultipartBody()
        var body = Data()
        for (name, value) in fields { body.append(form.field(name, value)) }
        body.append(form.file("file", fileName: fileName ?? (file as NSString).lastPathComponent,
                              contentType: partContentType, contents: try Data(contentsOf: URL(fileURLWithPath: file))))
        body.append(form.closing)
        return try await send(.POST, path, body: body, contentType: form.contentType)
    }

    /// Uploads and returns the new video number, failing the test if the upload was refused.
    func uploadOK(file: String, fileName: String? = nil, fields: [(String, String)] = []) async throws -> String {
        let reply = try await upload(file: file, fileName: fileName, fields: fields)
        let envelope = try reply.envelope(UploadReply.self)
        guard envelope.isSuccess, let data = envelope.data else {
            throw TestFailure("upload refused: \(envelope.code) \(envelope.msg)")
        }
        return data.videoNo
    }

    /// Polls `get_metadata` until the video leaves `UNPARSE` (bounded).
    func waitUntilProcessed(_ videoNo: String, namespace: String? = nil, within limit: Duration = .seconds(60)) async throws -> Video {
        let api = self
        return try await ServerHarness.poll("\(videoNo) to be processed", every: .milliseconds(50), within: limit) {
            guard let video = try await api.metadata(videoNo, namespace: namespace).data, video.status != .unparsed else { return nil }
            return video
        }
    }

    /// Streams a response body, counting bytes until it ends or fails. With `giveUpAfter` the
    /// request is cancelled (connection closed) after that long, as an impatient client would.
    ///
    /// Uses AsyncHTTPClient's delegate API, which reports every body part before an error; the
    /// async sequence API may drop parts still buffered when the connection breaks.
    func streamedByteCount(
        _ method: HTTPMethod, _ path: String, body: Data? = nil, headers: [(String, String)] = [],
        giveUpAfter: Duration? = nil
    ) async -> (status: Int?, bytes: Int, error: (any Error)?) {
        let counter = ByteCounter()
        do {
            var fields = HTTPHeaders(headers)
            if let key { fields.add(name: "Authorization", value: key) }
            if body != nil { fields.add(name: "Content-Type", value: "application/json") }
            let request = try HTTPClient.Request(
                url: base + path, method: method, headers: fields, body: body.map { .data($0) })
            let task = HTTPClient.shared.execute(request: request, delegate: counter)
            let impatience = Task {
                guard let giveUpAfter else { return }
                try await Task.sleep(for: giveUpAfter)
                task.cancel()
            }
            defer { impatience.cancel() }
            try await task.futureResult.get()
            return (counter.status, counter.bytes, nil)
        } catch {
            return (counter.status, counter.bytes, error)
        }
    }
}

/// Counts the bytes of a response body as they arrive.
private final class ByteCounter: HTTPClientResponseDelegate {
    typealias Response = Void
    private let state = Mutex<(status: Int?, bytes: Int)>((nil, 0))

    var status: Int? { state.withLock { $0.status } }
    var bytes: Int { state.withLock { $0.bytes } }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        state.withLock { $0.status = Int(head.status.code) }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        state.withLock { $0.bytes += buffer.readableBytes }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {}
}

/// Builds `multipart/form-data` bodies.
struct MultipartBody {
    let boundary = "----mavifs-test-\(UUID().uuidString)"
    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    func field(_ name: String, _ value: String) -> Data {
        Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
    }

    func file(_ name: String, fileName: String, contentType: String?, contents: Data) -> Data {
        var head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(fileName)\"\r\n"
        if let contentType { head += "Content-Type: \(contentType)\r\n" }
        head += "\r\n"
        return Data(head.utf8) + contents + Data("\r\n".utf8)
    }

    var closing: Data { Data("--\(boundary)--\r\n".utf8) }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
