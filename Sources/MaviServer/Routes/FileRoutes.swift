import Foundation
import Hummingbird

extension Library {
    /// `GET|HEAD /files/<token>/<video_no>.<ext>`: the `video_url` of a video. Public like a CDN
    /// link (the token is the secret; see `PublicURLs`), with Range support unless `--no-range`.
    func videoFile(_ request: Request, _ context: LibraryRequestContext) async throws -> Response {
        guard let namespace = try await namespace(fromTokenIn: context),
              let fileName = context.parameters.get("file"),
              let stored = try await storedVideo(forFileName: fileName, namespace: namespace.name),
              stored.hasOriginal
        else { return Self.notFound }
        let file = FileResponse(
            path: originalPath(stored, in: namespace),
            contentType: FileResponse.contentType(forExtension: stored.fileExtension),
            endpoint: .file, honourRange: options.rangeRequests)
        guard let response = try await file.respond(to: request, context: context, library: self) else { return Self.notFound }
        if request.method == .get { stats.countFileRequest(stored.videoNo) }
        return response
    }

    /// `GET|HEAD /covers/<token>/<video_no>.jpg`: the `cover_url` frame.
    func coverFile(_ request: Request, _ context: LibraryRequestContext) async throws -> Response {
        guard let namespace = try await namespace(fromTokenIn: context),
              let fileName = context.parameters.get("file"), fileName.hasSuffix(".jpg"),
              let stored = try await database.video(String(fileName.dropLast(4)), namespace: namespace.name),
              stored.hasCover
        else { return Self.notFound }
        let file = FileResponse(
            path: coverPath(stored, in: namespace), contentType: "image/jpeg",
            endpoint: .cover, honourRange: options.rangeRequests)
        return try await file.respond(to: request, context: context, library: self) ?? Self.notFound
    }

    /// `GET|HEAD /files/<token>/`: a plain HTML listing of the namespace's files, one `<a href>`
    /// per file with the bare file name, the shape rclone's `:http:` backend and httpdirfs read.
    func fileIndex(_ request: Request, _ context: LibraryRequestContext) async throws -> Response {
        guard let namespace = try await namespace(fromTokenIn: context) else { return Self.notFound }
        // Relative links resolve against the directory only when its URL ends in a slash.
        guard request.uri.path.hasSuffix("/") else {
            return Response(status: .movedPermanently, headers: [.location: request.uri.path + "/"])
        }
        let files = try await database.filesOnDisk(namespace: namespace.name)
        var html = """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>Index of /</title></head>
            <body><h1>Index of /</h1><pre>

            """
        for record in files {
            let name = Self.htmlEscaped(record.fileName)
            let date = FileResponse.httpDate(seconds: Int(record.createTime / 1000))
            html += "<a href=\"\(name)\">\(name)</a>  \(date)  \(record.size)\n"
        }
        html += "</pre></body></html>\n"
        var buffer = ByteBuffer(string: html)
        if request.method == .head {
            let length = buffer.readableBytes
            buffer.clear()
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .contentLength: String(length)])
        }
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: buffer))
    }

    private func namespace(fromTokenIn context: LibraryRequestContext) async throws -> NamespaceRecord? {
        guard let token = context.parameters.get("token"), token.count == 32 else { return nil }
        return try await database.namespace(token: token)
    }

    static var notFound: Response {
        Response(status: .notFound, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "Not Found\n")))
    }

    static func htmlEscaped(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
