import NIOCore

/// A `multipart/form-data` body whose last part is a file streamed from elsewhere: ``head`` holds
/// the text fields and the file part's headers, ``tail`` closes the body after the file's bytes.
struct MultipartForm: Sendable {
    let boundary: String
    private(set) var head = ByteBuffer()

    init(boundary: String = MultipartForm.randomBoundary()) {
        self.boundary = boundary
    }

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    /// Closes the body after a file's bytes.
    var tail: ByteBuffer { ByteBuffer(string: "\r\n--\(boundary)--\r\n") }

    /// The whole body of a form that has text fields only (each already ends its line).
    var fieldsOnly: ByteBuffer {
        var body = head
        body.writeString("--\(boundary)--\r\n")
        return body
    }

    mutating func addField(_ name: String, _ value: String) {
        head.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(Self.quoted(name))\"\r\n\r\n\(value)\r\n")
    }

    /// Starts the file part; its bytes follow ``head`` directly.
    mutating func beginFile(field: String, fileName: String, contentType: String) {
        head.writeString(
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(Self.quoted(field))\"; filename=\"\(Self.quoted(fileName))\"\r\n"
                + "Content-Type: \(contentType)\r\n\r\n"
        )
    }

    /// Escapes a quoted parameter the way browsers do (WHATWG): `"` and line breaks as `%22`,
    /// `%0D`, `%0A`; other characters, UTF-8 included, as they are.
    static func quoted(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "%22"
            case "\r": result += "%0D"
            case "\n": result += "%0A"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    static func randomBoundary() -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = (0..<4).map { _ in String(generator.next() as UInt64, radix: 16) }.joined()
        return "mavifs-" + hex
    }

    /// The part Content-Type the service expects for each accepted extension.
    static func videoContentType(forExtension ext: String) -> String {
        switch ext.lowercased() {
        case "mp4": "video/mp4"
        case "mov": "video/quicktime"
        case "mkv": "video/x-matroska"
        case "avi": "video/x-msvideo"
        default: "application/octet-stream"
        }
    }
}

/// The request body of an upload: the form's head, the file's chunks, the form's tail. It reports
/// progress as the HTTP client pulls the file's chunks, which it does as fast as the connection
/// takes them.
struct MultipartUploadBody<FileChunks: AsyncSequence & Sendable>: AsyncSequence, Sendable where FileChunks.Element == ByteBuffer {
    typealias Element = ByteBuffer

    let head: ByteBuffer
    let file: FileChunks
    let fileSize: Int64
    let tail: ByteBuffer
    let progress: (@Sendable (UploadProgress) -> Void)?

    var length: Int64 { Int64(head.readableBytes) + fileSize + Int64(tail.readableBytes) }

    func makeAsyncIterator() -> Iterator {
        Iterator(body: self, file: file.makeAsyncIterator())
    }

    struct Iterator: AsyncIteratorProtocol {
        enum Stage { case head, file, done }
        let body: MultipartUploadBody
        var file: FileChunks.AsyncIterator
        var stage = Stage.head
        var sent: Int64 = 0

        mutating func next() async throws -> ByteBuffer? {
            switch stage {
            case .head:
                stage = .file
                body.progress?(.sending(sent: 0, total: body.fileSize))
                return body.head
            case .file:
                if let chunk = try await file.next() {
                    sent += Int64(chunk.readableBytes)
                    body.progress?(.sending(sent: sent, total: body.fileSize))
                    return chunk
                }
                stage = .done
                body.progress?(.awaitingReply)
                return body.tail
            case .done:
                return nil
            }
        }
    }
}
