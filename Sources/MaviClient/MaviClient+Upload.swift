import AsyncHTTPClient
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MaviAPI
import NIOCore
import NIOHTTP1
import _NIOFileSystem

extension MaviClient {
    /// Uploads a video file as `multipart/form-data`, streaming it from disk (never whole in
    /// memory), into the configured namespace.
    ///
    /// The documented limits (extension, 3 GB, 20 tags, field lengths) are checked first. Uploads
    /// are paced (1 per minute on the live service) and, since an upload must not happen twice,
    /// retried only when the server certainly refused it (rate limit, 503, no connection).
    public func upload(file path: String, fields: UploadFields = UploadFields(), progress: (@Sendable (UploadProgress) -> Void)? = nil) async throws -> UploadReply {
        try fields.validate()
        let fileName = fields.fileName ?? URL(fileURLWithPath: path).lastPathComponent
        let ext = URL(fileURLWithPath: fileName).pathExtension.lowercased()
        guard APILimits.uploadExtensions.contains(ext) else {
            throw MaviClientError.invalidRequest(endpoint: .upload, reason: "'\(fileName)' is not one of .\(APILimits.uploadExtensions.joined(separator: ", ."))")
        }
        let fileSize = try Self.regularFileSize(path)
        guard fileSize <= APILimits.maxUploadBytes else {
            throw MaviClientError.invalidRequest(endpoint: .upload, reason: "'\(fileName)' is larger than \(APILimits.maxUploadBytes) bytes")
        }

        var form = uploadForm(fields)
        form.beginFile(field: "file", fileName: fileName, contentType: MultipartForm.videoContentType(forExtension: ext))

        let url = url(for: .upload)
        let headers = headers(for: url, accept: "application/json", contentType: form.contentType)
        let replyTimeout = configuration.timeouts.request

        let reply = try await withRetries(
            .upload, .onlyIfNotProcessed,
            onPacingWait: { progress?(.waitingForRateLimit($0)) },
            onRetry: { progress?(.retrying(attempt: $0, after: $1, reason: $2.description)) }
        ) { attempt in
            try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(path)) { handle in
                let body = MultipartUploadBody(
                    head: form.head, file: handle.readChunks(in: 0..<fileSize, chunkLength: .kibibytes(256)),
                    fileSize: fileSize, tail: form.tail, progress: progress
                )
                var request = HTTPClientRequest(url: url)
                request.method = .POST
                request.headers = headers
                request.body = .stream(body, length: .known(body.length))
                // Sending 3 GB takes as long as it takes: the connection-level idle timeouts
                // guard against a stall, and the reply has its own timeout once it starts.
                let response = try await http.execute(request, deadline: .distantFuture)
                let replyBody = try await withTimeout(replyTimeout, error: .timeout(endpoint: .upload, .response)) {
                    try await response.body.collect(upTo: Self.maxJSONBytes)
                }
                logger.info("upload reply", metadata: ["attempt": "\(attempt)", "status": "\(response.status.code)", "bytes": "\(fileSize)"])
                return try interpreter(.upload).payload(UploadReply.self, status: response.status, headers: response.headers, body: replyBody)
            }
        }
        guard let reply else {
            throw MaviClientError.invalidResponse(endpoint: .upload, reason: "the reply has no data")
        }
        return reply
    }

    /// A form holding the namespace and `fields`, the text part of both kinds of upload.
    func uploadForm(_ fields: UploadFields) -> MultipartForm {
        var form = MultipartForm()
        form.addField("unique_id", configuration.namespace)
        for tag in fields.tags { form.addField("tags", tag) }
        if let cameraModel = fields.cameraModel { form.addField("camera_model", cameraModel) }
        if let takenAt = fields.takenAt { form.addField("datetime_taken", takenAt) }
        if let location = fields.location {
            form.addField("latitude", String(location.latitude))
            form.addField("longitude", String(location.longitude))
        }
        if let callback = fields.callback { form.addField("callback", callback) }
        if let retain = fields.retainOriginalVideo { form.addField("retain_original_video", String(retain)) }
        return form
    }

    /// The size of the file at `path` (following symbolic links), which must be a regular file.
    static func regularFileSize(_ path: String) throws(MaviClientError) -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw .invalidRequest(endpoint: .upload, reason: "cannot read '\(path)': \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .invalidRequest(endpoint: .upload, reason: "'\(path)' is not a regular file")
        }
        return Int64(info.st_size)
    }
}
