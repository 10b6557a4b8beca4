import AsyncHTTPClient
import Foundation
import MaviAPI
import NIOCore
import NIOHTTP1

extension MaviClient {
    /// Asks the service to fetch a video from `url` itself (`POST /upload_url`), into the
    /// configured namespace. The reply is the same as for a file upload: the video starts
    /// `UNPARSE`, and ends `PARSE`, or `FAIL` when the URL could not be fetched or is no video.
    ///
    /// `fields.fileName` does not apply: the service names the video after the URL.
    ///
    /// It counts against the upload rate limit (1 per minute on the live service) and, like an
    /// upload, is sent again only when the server certainly refused it.
    public func upload(url: URL, fields: UploadFields = UploadFields()) async throws -> UploadReply {
        try fields.validate()
        guard let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host?.isEmpty == false else {
            throw MaviClientError.invalidRequest(endpoint: .uploadURL, reason: "the video URL must be http or https")
        }
        var form = uploadForm(fields)
        form.addField("url", url.absoluteString)
        let body = form.fieldsOnly
        let target = self.url(for: .uploadURL)
        var request = HTTPClientRequest(url: target)
        request.method = .POST
        request.headers = headers(for: target, accept: "application/json", contentType: form.contentType)
        request.body = .bytes(body)
        let timeout = configuration.timeouts.request

        let reply = try await withRetries(.uploadURL, .onlyIfNotProcessed) { attempt in
            let (status, headers, replyBody) = try await withTimeout(timeout, error: .timeout(endpoint: .uploadURL, .response)) { [http, request] in
                let response = try await http.execute(request, timeout: TimeAmount(timeout) + .seconds(1))
                return (response.status, response.headers, try await response.body.collect(upTo: Self.maxJSONBytes))
            }
            logger.info("upload_url reply", metadata: ["attempt": "\(attempt)", "status": "\(status.code)"])
            return try interpreter(.uploadURL).payload(UploadReply.self, status: status, headers: headers, body: replyBody)
        }
        guard let reply else {
            throw MaviClientError.invalidResponse(endpoint: .uploadURL, reason: "the reply has no data")
        }
        return reply
    }
}
