import AsyncHTTPClient
import Foundation
import MaviAPI
import NIOCore
import NIOHTTP1

/// What a server did with a ranged request.
public enum RangeReply: Sendable {
    /// `206` with a `Content-Range` matching the request: exactly the bytes asked for (fewer only
    /// when the file ends sooner).
    case partial(ContentRange, ByteStream)
    /// `200`: the server ignored `Range` and is sending the whole file from byte 0. Read what is
    /// needed from the stream, or drop it, which closes the connection without reading the rest.
    case ignored(ByteStream)
}

/// What ``MaviClient/probeRange(_:)`` learned about a URL.
public enum RangeSupport: Sendable, Equatable {
    case honoured(completeLength: Int64?)
    case ignored(contentLength: Int64?)
}

extension MaviClient {
    /// Asks for `range` (inclusive byte offsets) of `url`: a video's CDN `video_url`, or
    /// ``objectURL(bucket:blob:)``. Range support is undocumented for both, so the reply says
    /// whether it was honoured; nothing is assumed.
    ///
    /// The key is sent only if `url` is on the API's origin. Requests to the API's object route
    /// are paced as ``MaviEndpoint/object``, others as ``MaviEndpoint/range``.
    public func fetchRange(_ url: URL, range: ClosedRange<Int64>) async throws -> RangeReply {
        let target = url.absoluteString
        let endpoint: MaviEndpoint = isOnEndpointOrigin(target) && [APIPath.download, APIPath.downloadV2].contains(url.path) ? .object : .range
        guard range.lowerBound >= 0 else {
            throw MaviClientError.invalidRequest(endpoint: endpoint, reason: "negative range start")
        }
        var request = HTTPClientRequest(url: target)
        request.method = .GET
        request.headers = headers(for: target, accept: "*/*")
        request.headers.add(name: "Range", value: "bytes=\(range.lowerBound)-\(range.upperBound)")
        // A compressed body would make byte offsets meaningless.
        request.headers.add(name: "Accept-Encoding", value: "identity")

        return try await withRetries(endpoint) { attempt in
            let response = try await responseHead(request, endpoint: endpoint)
            logger.debug("range reply", metadata: [
                "endpoint": "\(endpoint)", "attempt": "\(attempt)", "status": "\(response.status.code)",
                "content_range": "\(redactor.scrub(response.headers.first(name: "content-range") ?? "none"))",
            ])
            switch response.status.code {
            case 206:
                let header = response.headers.first(name: "content-range")
                guard let contentRange = header.flatMap(ContentRange.init(headerValue:)), contentRange.answers(range) else {
                    throw MaviClientError.rangeMismatch(endpoint: endpoint, requested: range, contentRange: header.map(redactor.scrub))
                }
                try await rejectNonBytes(response, endpoint: endpoint)
                return .partial(contentRange, byteStream(response, endpoint: endpoint, expectedLength: contentRange.count))
            case 200:
                try await rejectNonBytes(response, endpoint: endpoint)
                return .ignored(byteStream(response, endpoint: endpoint, expectedLength: Self.contentLength(response.headers)))
            case 416:
                let length = response.headers.first(name: "content-range").flatMap(ContentRange.unsatisfiedLength(headerValue:))
                throw MaviClientError.rangeNotSatisfiable(endpoint: endpoint, completeLength: length)
            default:
                throw try await refusal(response, endpoint: endpoint)
            }
        }
    }

    /// Asks for the first byte of `url` to learn whether it honours `Range`.
    public func probeRange(_ url: URL) async throws -> RangeSupport {
        switch try await fetchRange(url, range: 0...0) {
        case .partial(let contentRange, let stream):
            _ = try await stream.collect(upTo: 1)
            return .honoured(completeLength: contentRange.completeLength)
        case .ignored(let stream):
            // Dropping the stream closes the connection instead of downloading the whole file.
            return .ignored(contentLength: stream.contentLength)
        }
    }
}

extension MaviClient {
    /// Opens `count` connections to the origin of `url` and leaves them idle in the pool: `count`
    /// probes (``probeRange(_:)``) at once, so that each takes a connection of its own. The next
    /// reads of videos there (a player's jump to a video's index while its first read still
    /// streams, above all) then cost one round trip instead of two. Returns whether the origin
    /// honours Range (`nil` when no answer came).
    public func warmConnections(to url: URL, count: Int) async -> Bool? {
        await withTaskGroup(of: Bool?.self) { group in
            for _ in 0..<max(0, count) {
                group.addTask {
                    switch try? await self.probeRange(url) {
                    case .honoured?: true
                    case .ignored?: false
                    case nil: nil
                    }
                }
            }
            var verdict: Bool?
            for await answer in group where answer != nil { verdict = (verdict ?? true) && answer! }
            return verdict
        }
    }
}
