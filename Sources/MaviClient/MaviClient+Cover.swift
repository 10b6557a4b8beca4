import AsyncHTTPClient
import Foundation
import NIOCore

extension MaviClient {
    /// The bytes of a video's cover frame (its `cover_url`), whole. Covers are small JPEGs; a reply
    /// over `maxBytes` is refused rather than held in memory.
    ///
    /// The key is sent only if `url` is on the API's origin, as for any URL a listing gives.
    public func cover(_ url: URL, maxBytes: Int = 16 << 20) async throws -> [UInt8] {
        let target = url.absoluteString
        var request = HTTPClientRequest(url: target)
        request.method = .GET
        request.headers = headers(for: target, accept: "image/*")
        return try await withRetries(.cover) { _ in
            let response = try await responseHead(request, endpoint: .cover)
            guard response.status.code == 200 else { throw try await refusal(response, endpoint: .cover) }
            let length = Self.contentLength(response.headers)
            if let length, length > Int64(maxBytes) {
                throw MaviClientError.invalidResponse(endpoint: .cover, reason: "a cover of \(length) bytes is over the \(maxBytes)-byte limit")
            }
            let body = try await byteStream(response, endpoint: .cover, expectedLength: length).collect(upTo: maxBytes)
            return Array(body.readableBytesView)
        }
    }
}
