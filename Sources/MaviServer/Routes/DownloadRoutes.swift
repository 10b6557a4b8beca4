import Hummingbird
import MaviAPI
import NIOFileSystem

private struct DownloadBody: Decodable {
    var videoNo: String?
    var uniqueID: String?

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: FieldKey.self)
        videoNo = try c.strictString(FieldKey("video_no"))
        uniqueID = try c.strictString(FieldKey("unique_id"))
    }
}

extension Library {
    /// `POST /serve/api/v1/download`: the whole original as `application/octet-stream`, chunked
    /// with no `Content-Length`, read from disk as it is sent. Like the live endpoint it knows
    /// nothing of `Range`. Failures are envelopes with HTTP 200.
    func download(_ request: Request, _ context: LibraryRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(DownloadBody.self, from: request, context: context)
        guard let videoNo = body.videoNo, !videoNo.isEmpty else { throw APIFailure.invalid(APIMessage.videoNoEmpty) }
        let namespace = try await database.namespace(named: Self.namespaceName(body.uniqueID))
        guard let stored = try await database.video(videoNo, namespace: namespace.name), stored.hasOriginal else {
            throw APIFailure.invalid(APIMessage.downloadFailed)
        }
        let path = originalPath(stored, in: namespace)
        guard let info = try? await FileSystem.shared.info(forFileAt: FilePath(path)) else {
            throw APIFailure.invalid(APIMessage.downloadFailed)
        }
        stats.countDownload(videoNo)
        let stream = fileStream(path, range: 0..<info.size, endpoint: .download, context: context)
        return Response(
            status: .ok, headers: [.contentType: "application/octet-stream"],
            body: stream.body(announceLength: false))
    }

    /// `GET /serve/api/v1|v2/download?bucket=&blob=`: a stored object by the `bucket`/`blob` of a
    /// list item, as an attachment with `Content-Length`. Account-wide, like a storage bucket.
    /// Whether the live route honours `Range` is undocumented; here it follows `--no-range`.
    func downloadBlob(_ request: Request, _ context: LibraryRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        guard let bucket = query.get("bucket"), !bucket.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw APIFailure.invalid(APIMessage.bucketEmpty)
        }
        guard bucket == PublicURLs.bucket, let blob = query.get("blob"), !blob.isEmpty,
              let stored = try await storedVideo(forFileName: blob, namespace: nil), stored.hasOriginal
        else { throw APIFailure.invalid(APIMessage.resourceMissing) }
        let namespace = try await database.namespace(named: stored.namespace)
        let file = FileResponse(
            path: originalPath(stored, in: namespace),
            contentType: FileResponse.contentType(forExtension: stored.fileExtension),
            endpoint: .downloadBlob, honourRange: options.rangeRequests,
            extraHeaders: [.contentDisposition: "attachment; filename=\"\(stored.fileName)\""])
        guard let response = try await file.respond(to: request, context: context, library: self) else {
            throw APIFailure.invalid(APIMessage.resourceMissing)
        }
        if request.method == .get { stats.countBlobDownload(stored.videoNo) }
        return response
    }

    /// The video whose stored file is called `fileName` (`<video_no>.<ext>`).
    func storedVideo(forFileName fileName: String, namespace: String?) async throws -> VideoRecord? {
        guard let dot = fileName.lastIndex(of: "."), dot != fileName.startIndex else { return nil }
        let videoNo = String(fileName[..<dot])
        guard let stored = try await database.video(videoNo, namespace: namespace),
              stored.fileName == fileName else { return nil }
        return stored
    }

    func originalPath(_ record: VideoRecord, in namespace: NamespaceRecord) -> String {
        layout.videoFile(directory: namespace.directory, videoNo: record.videoNo, fileExtension: record.fileExtension)
    }

    func coverPath(_ record: VideoRecord, in namespace: NamespaceRecord) -> String {
        layout.coverFile(directory: namespace.directory, videoNo: record.videoNo)
    }
}
