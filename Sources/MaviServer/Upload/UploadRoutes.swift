import Foundation
import Hummingbird
import MaviAPI

extension Library {
    /// `POST /serve/api/v1/upload` (multipart): stores the file, answers `UNPARSE` in camelCase at
    /// once, and leaves probing to the processing queue.
    func upload(_ request: Request, _ context: LibraryRequestContext) async throws -> Response {
        guard let boundary = MultipartFormReader.boundary(of: request) else {
            throw APIFailure.invalid(ServerMessages.notMultipart)
        }
        // Refuse an announced oversize body before reading any of it.
        if let length = request.headers[.contentLength].flatMap(Int64.init),
           length > APILimits.maxUploadBytes + Int64(MultipartFormReader.maxFieldBytes) {
            throw APIFailure.invalid(ServerMessages.fileTooLarge)
        }
        let temporary = layout.newTemporaryFile()
        var keepTemporary = false
        defer { if !keepTemporary { try? FileManager.default.removeItem(atPath: temporary) } }

        let form = try await MultipartFormReader.read(
            request.body, boundary: boundary, temporaryPath: temporary, maxFileBytes: APILimits.maxUploadBytes)
        guard let file = form.file, file.size > 0 else { throw APIFailure.invalid(ServerMessages.fileMissing) }
        let baseName = (file.fileName.replacingOccurrences(of: "\\", with: "/") as NSString).lastPathComponent
        let ext = (baseName as NSString).pathExtension.lowercased()
        guard APILimits.uploadExtensions.contains(ext), Self.isAcceptableVideoType(file.contentType) else {
            throw APIFailure.invalid(ServerMessages.fileTypeUnsupported)
        }
        let fields = try UploadFields(form.fields)
        let videoName = (baseName as NSString).deletingPathExtension

        let namespace = try await database.namespace(named: fields.namespace)
        var record = newRecord(name: videoName, fileExtension: ext, namespace: namespace, fields: fields)
        record.size = file.size
        let destination = originalPath(record, in: namespace)
        try layout.ensureDirectory(forFile: destination)
        try FileManager.default.moveItem(atPath: temporary, toPath: destination)
        keepTemporary = true
        do {
            try await database.insert(record)
        } catch {
            try? FileManager.default.removeItem(atPath: destination)
            throw error
        }
        processor.enqueue(record.videoNo)
        logger.info("uploaded \(record.videoNo) (\(file.size) bytes) to namespace \(namespace.name)")
        return JSONReply.success(UploadReply(
            videoNo: record.videoNo, videoName: record.videoName, videoStatus: .unparsed, uploadTime: record.createTime))
    }

    /// `POST /serve/api/v1/upload_url`: like `upload`, with a form field `url` (multipart or
    /// urlencoded) that the processing queue fetches before probing.
    func uploadURL(_ request: Request, _ context: LibraryRequestContext) async throws -> Response {
        let fields: [(name: String, value: String)]
        if let boundary = MultipartFormReader.boundary(of: request) {
            let temporary = layout.newTemporaryFile()
            defer { try? FileManager.default.removeItem(atPath: temporary) }
            fields = try await MultipartFormReader.read(
                request.body, boundary: boundary, temporaryPath: temporary, maxFileBytes: 0).fields
        } else {
            let body = try await request.body.collect(upTo: context.maxUploadSize)
            fields = URLEncodedFields.parse(String(buffer: body))
        }
        guard let text = fields.first(where: { $0.name == "url" })?.value.trimmingCharacters(in: .whitespaces),
              !text.isEmpty else { throw APIFailure.invalid(ServerMessages.urlMissing) }
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
            throw APIFailure.invalid(ServerMessages.urlInvalid)
        }
        let uploadFields = try UploadFields(fields)
        let lastComponent = url.lastPathComponent.isEmpty || url.lastPathComponent == "/" ? "video.mp4" : url.lastPathComponent
        let urlExt = (lastComponent as NSString).pathExtension.lowercased()
        let ext = APILimits.uploadExtensions.contains(urlExt) ? urlExt : "mp4"
        let name = (lastComponent as NSString).deletingPathExtension

        let namespace = try await database.namespace(named: uploadFields.namespace)
        var record = newRecord(name: name.isEmpty ? "video" : name, fileExtension: ext, namespace: namespace, fields: uploadFields)
        record.size = 0
        record.hasOriginal = false
        record.sourceURL = url.absoluteString
        try await database.insert(record)
        processor.enqueue(record.videoNo)
        return JSONReply.success(UploadReply(
            videoNo: record.videoNo, videoName: record.videoName, videoStatus: .unparsed, uploadTime: record.createTime))
    }

    private func newRecord(name: String, fileExtension: String, namespace: NamespaceRecord, fields: UploadFields) -> VideoRecord {
        VideoRecord(
            videoNo: ids.next(), namespace: namespace.name, videoName: name, fileExtension: fileExtension,
            size: 0, status: VideoStatus.unparsed.wireValue, cause: nil, createTime: LibraryDatabase.nowMilliseconds(),
            duration: nil, fps: nil, width: nil, height: nil,
            datetimeTaken: fields.datetimeTaken, cameraModel: fields.cameraModel,
            latitude: fields.latitude, longitude: fields.longitude, callbackURL: fields.callback,
            retainOriginal: fields.retainOriginal, hasOriginal: true, hasCover: false, sourceURL: nil,
            tags: fields.tags)
    }

    /// The documented part type is `video/*`. Many clients label files `application/octet-stream`
    /// or not at all, so those pass too; anything else explicit (an image, text) is refused.
    static func isAcceptableVideoType(_ contentType: String?) -> Bool {
        guard let contentType, !contentType.isEmpty else { return true }
        let type = HeaderParameters(contentType).value
        return type.hasPrefix("video/") || type == "application/octet-stream"
    }
}

/// `application/x-www-form-urlencoded` bodies.
enum URLEncodedFields {
    static func parse(_ body: String) -> [(name: String, value: String)] {
        body.split(separator: "&").compactMap { pair in
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
            }
            guard let name = kv.first.map(decode), !name.isEmpty else { return nil }
            return (name, kv.count > 1 ? decode(kv[1]) : "")
        }
    }
}
