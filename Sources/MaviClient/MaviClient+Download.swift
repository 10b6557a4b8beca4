import AsyncHTTPClient
import Foundation
import MaviAPI
import NIOCore
import NIOHTTP1

extension MaviClient {
    /// The original file of a video, as one sequential stream (`POST /download`).
    ///
    /// The reply is checked before this returns: a JSON envelope instead of bytes throws (as
    /// ``MaviClientError/jsonInsteadOfBytes(_:)``, or as the code's own case when it has one, such
    /// as ``MaviClientError/rateLimited(_:)``). The first chunk is read ahead too, so that every
    /// failure before the caller has any byte is retried here; after that, errors end the
    /// iteration and retrying is the caller's decision — mind the download rate limit.
    ///
    /// - Parameter expectedLength: the file's size if known (from the listing); a stream that
    ///   ends at another length is then an error even when the server sent no `Content-Length`.
    /// - Parameter onSent: called each time the request is sent, once its turn under the
    ///   endpoint's rate limit came (a caller can tell waiting for the turn from waiting for bytes).
    public func download(videoNo: String, expectedLength: Int64? = nil, onSent: (@Sendable () -> Void)? = nil) async throws -> ByteStream {
        guard !videoNo.isEmpty else {
            throw MaviClientError.invalidRequest(endpoint: .download, reason: "empty video number")
        }
        let url = url(for: .download)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers = headers(for: url, accept: "*/*", contentType: "application/json")
        request.body = .bytes(Self.jsonBody(DownloadRequest(videoNo: videoNo, uniqueID: configuration.namespace)))
        return try await withRetries(.download) { attempt in
            onSent?()
            return try await openStream(request, endpoint: .download, expectedLength: expectedLength, attempt: attempt)
        }
    }

    /// A stored object by the `bucket` and `blob` of a listed video (`GET /download`).
    public func downloadObject(bucket: String, blob: String, expectedLength: Int64? = nil) async throws -> ByteStream {
        guard !bucket.isEmpty, !blob.isEmpty else {
            throw MaviClientError.invalidRequest(endpoint: .object, reason: "bucket and blob are required")
        }
        let url = objectURL(bucket: bucket, blob: blob).absoluteString
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        request.headers = headers(for: url, accept: "*/*")
        return try await withRetries(.object) { attempt in
            try await openStream(request, endpoint: .object, expectedLength: expectedLength, attempt: attempt)
        }
    }

    /// The URL of a stored object on the configured endpoint, for ``downloadObject(bucket:blob:expectedLength:)``
    /// or ``fetchRange(_:range:)`` (which attaches the key to it, being on the API's origin).
    public func objectURL(bucket: String, blob: String) -> URL {
        URL(string: url(for: .object, query: ["bucket": bucket, "blob": blob]))!
    }

    /// Sends a request whose success is a byte body; throws what a refusal means.
    func openStream(_ request: HTTPClientRequest, endpoint: MaviEndpoint, expectedLength: Int64?, attempt: Int) async throws -> ByteStream {
        let response = try await responseHead(request, endpoint: endpoint)
        guard (200..<300).contains(response.status.code) else {
            throw try await refusal(response, endpoint: endpoint)
        }
        try await rejectNonBytes(response, endpoint: endpoint)
        let stream = byteStream(response, endpoint: endpoint, expectedLength: expectedLength ?? Self.contentLength(response.headers))
        try await stream.source.prefetch()
        logger.debug("stream opened", metadata: [
            "endpoint": "\(endpoint)", "attempt": "\(attempt)", "status": "\(response.status.code)",
            "content_length": "\(stream.contentLength.map(String.init) ?? "none")",
        ])
        return stream
    }

    /// Waits at most the request timeout for the response head.
    func responseHead(_ request: HTTPClientRequest, endpoint: MaviEndpoint) async throws -> HTTPClientResponse {
        let timeout = configuration.timeouts.request
        let started = ContinuousClock.now
        let response = try await withTimeout(timeout, error: .timeout(endpoint: endpoint, .response)) { [http] in
            try await http.execute(request, timeout: TimeAmount(timeout) + .seconds(1))
        }
        ClientMetrics.firstByte(endpoint, since: started)
        return response
    }

    /// The error a reply that is not the bytes asked for means (read from its small body).
    func refusal(_ response: HTTPClientResponse, endpoint: MaviEndpoint) async throws -> MaviClientError {
        let timeout = configuration.timeouts.request
        let body = try await withTimeout(timeout, error: .timeout(endpoint: endpoint, .response)) {
            try await response.body.collect(upTo: 1 << 20)
        }
        return interpreter(endpoint).refusalInsteadOfBytes(status: response.status, headers: response.headers, body: body)
    }

    /// Throws when a successful status carries JSON (an error envelope) or an HTML page.
    func rejectNonBytes(_ response: HTTPClientResponse, endpoint: MaviEndpoint) async throws {
        // Scrubbed before anything else: a header is text the server chose, and may echo the key.
        let contentType = redactor.scrub(response.headers.first(name: "content-type") ?? "").lowercased()
        if contentType.contains("json") {
            throw try await refusal(response, endpoint: endpoint)
        }
        if contentType.hasPrefix("text/html") {
            throw MaviClientError.unexpectedContentType(endpoint: endpoint, contentType: contentType)
        }
    }

    func byteStream(_ response: HTTPClientResponse, endpoint: MaviEndpoint, expectedLength: Int64?) -> ByteStream {
        let source = ChunkSource(
            body: response.body, endpoint: endpoint, expectedLength: expectedLength,
            idleTimeout: configuration.timeouts.idleRead, redactor: redactor, clock: configuration.clock
        )
        return ByteStream(source: source, contentLength: Self.contentLength(response.headers))
    }

    static func contentLength(_ headers: HTTPHeaders) -> Int64? {
        headers.first(name: "content-length").flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
    }
}
