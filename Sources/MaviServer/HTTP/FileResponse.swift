import Foundation
import Hummingbird
import NIOFileSystem

/// Answers for a file on disk the way a static file server or CDN does: `Content-Length`,
/// `Last-Modified`, `ETag`, and, when ranges are on, `Accept-Ranges` with 206/416 for `Range`.
/// HEAD gets the same headers without a body, which directory-mounting tools rely on for sizes.
struct FileResponse {
    var path: String
    var contentType: String
    var endpoint: Endpoint
    var honourRange: Bool
    var extraHeaders: HTTPFields = [:]

    /// nil when the file is not on disk.
    func respond(to request: Request, context: LibraryRequestContext, library: Library) async throws -> Response? {
        guard let info = try? await FileSystem.shared.info(forFileAt: FilePath(path)), info.type == .regular else {
            return nil
        }
        let size = info.size
        var headers = extraHeaders
        headers[.contentType] = contentType
        headers[.lastModified] = Self.httpDate(seconds: info.lastDataModificationTime.seconds)
        let etag = "\"\(String(size, radix: 16))-\(String(info.lastDataModificationTime.seconds, radix: 16))\""
        headers[.eTag] = etag
        if honourRange { headers[.acceptRanges] = "bytes" }

        var range = ByteRangeRequest.whole
        if honourRange {
            range = ByteRangeRequest(header: request.headers[.range], fileSize: size)
            // A stale If-Range means the client's partial copy is of another version: send it all.
            if let ifRange = request.headers[.ifRange], ifRange != etag, ifRange != headers[.lastModified] {
                range = .whole
            }
        }
        let status: HTTPResponse.Status
        let bytes: Range<Int64>
        switch range {
        case .whole:
            status = .ok
            bytes = 0..<size
        case .partial(let r):
            status = .partialContent
            bytes = r
            headers[.contentRange] = "bytes \(r.lowerBound)-\(r.upperBound - 1)/\(size)"
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(size)"
            headers[.contentLength] = "0"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        }
        headers[.contentLength] = String(bytes.count)
        if request.method == .head || bytes.isEmpty {
            return Response(status: status, headers: headers)
        }
        let stream = library.fileStream(path, range: bytes, endpoint: endpoint, context: context)
        return Response(status: status, headers: headers, body: stream.body(announceLength: true))
    }

    /// RFC 9110 IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func httpDate(seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func contentType(forExtension ext: String) -> String {
        switch ext.lowercased() {
        case "mp4": "video/mp4"
        case "mov": "video/quicktime"
        case "mkv": "video/x-matroska"
        case "avi": "video/x-msvideo"
        case "jpg", "jpeg": "image/jpeg"
        default: "application/octet-stream"
        }
    }
}
