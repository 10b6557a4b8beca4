import AsyncHTTPClient
import Foundation
import Logging
import MaviAPI
import NIOCore
import NIOFileSystem

/// The server's own outgoing HTTP: processing callbacks and `upload_url` fetches.
enum OutboundHTTP {
    /// One pool for the life of the process, like `HTTPClient.shared`, but configured for fetching
    /// files on a user's behalf: a host that refuses the connection fails the fetch at once
    /// (the shared client keeps retrying for 90 s, leaving the video `UNPARSE` all that time), a
    /// source that goes silent for a minute fails it, and bodies are stored as sent, never
    /// decompressed.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .follow(max: 5, allowCycles: false),
            timeout: .init(connect: .seconds(10), read: .seconds(60)),
            decompression: .disabled)
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// POSTs `{"videoNo", "status"}` to an upload's callback URL. One attempt: a callback that
    /// fails is logged, never retried, and never affects the video.
    static func notify(_ callback: String, videoNo: String, status: VideoStatus, logger: Logger) async {
        do {
            var request = HTTPClientRequest(url: callback)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(ProcessingCallback(videoNo: videoNo, status: status))))
            let response = try await client.execute(request, timeout: .seconds(10))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            logger.debug("callback for \(videoNo) answered \(response.status.code)")
        } catch {
            logger.warning("callback for \(videoNo) failed: \(error)")
        }
    }

    struct FetchFailed: Error {}

    /// Streams `url` into `path`; returns the byte count. Fails on a non-2xx answer or when the
    /// body exceeds the upload limit.
    static func fetch(_ url: String, to path: String, maxBytes: Int64) async throws -> Int64 {
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .minutes(30))
        guard (200..<300).contains(response.status.code) else { throw FetchFailed() }
        var written: Int64 = 0
        try await FileSystem.shared.withFileHandle(forWritingAt: FilePath(path), options: .newFile(replaceExisting: true)) { handle in
            try await handle.withBufferedWriter { writer in
                for try await chunk in response.body {
                    written += Int64(chunk.readableBytes)
                    guard written <= maxBytes else { throw FetchFailed() }
                    try await writer.write(contentsOf: chunk)
                }
                try await writer.flush()
            }
        }
        guard written > 0 else { throw FetchFailed() }
        return written
    }
}
