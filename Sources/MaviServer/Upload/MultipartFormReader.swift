import Hummingbird
import MaviAPI
import MultipartKit
import NIOCore
import NIOFileSystem

/// A `multipart/form-data` body, read as it arrives.
struct MultipartForm {
    /// Text fields in the order sent (repeated names repeat).
    var fields: [(name: String, value: String)] = []
    var file: UploadedFile?

    func first(_ name: String) -> String? { fields.first { $0.name == name }?.value }
}

/// The `file` part, already on disk.
struct UploadedFile {
    var fileName: String
    var contentType: String?
    var size: Int64
    var temporaryPath: String
}

/// Streams a `multipart/form-data` request: small fields are kept in memory (bounded), the first
/// part named `file` that carries a filename goes straight to `temporaryPath` through a buffered
/// writer, so memory stays flat for a 3 GB upload. Parsing is MultipartKit's streaming parser.
enum MultipartFormReader {
    static let maxFieldBytes = 1 << 20

    static func boundary(of request: Request) -> String? {
        guard let contentType = request.headers[.contentType] else { return nil }
        let header = HeaderParameters(contentType)
        guard header.value == "multipart/form-data", let boundary = header.parameters["boundary"], !boundary.isEmpty else {
            return nil
        }
        return boundary
    }

    /// Reads the whole body. Throws `APIFailure` when it is malformed, incomplete or too large;
    /// the temporary file is then left for the caller to remove.
    static func read(_ body: RequestBody, boundary: String, temporaryPath: String, maxFileBytes: Int64) async throws -> MultipartForm {
        let collector = FormCollector()
        let parser = MultipartParser(boundary: boundary)
        var headerGuard = MultipartHeaderGuard(boundary: boundary)
        parser.onHeader = { collector.header($0, $1) }
        parser.onBody = { collector.body(&$0) }
        parser.onPartComplete = { collector.partComplete() }

        try await FileSystem.shared.withFileHandle(
            forWritingAt: FilePath(temporaryPath), options: .newFile(replaceExisting: true)
        ) { handle in
            try await handle.withBufferedWriter(capacity: .mebibytes(1)) { writer in
                for try await chunk in body {
                    guard headerGuard.accept(chunk) else {
                        throw APIFailure.invalid("Failed to parse multipart servlet request")
                    }
                    do {
                        try parser.execute(chunk)
                    } catch {
                        throw APIFailure.invalid("Failed to parse multipart servlet request")
                    }
                    if let failure = collector.failure { throw failure }
                    if collector.pendingFileBytes.readableBytes > 0 {
                        collector.fileSize += Int64(collector.pendingFileBytes.readableBytes)
                        guard collector.fileSize <= maxFileBytes else { throw APIFailure.invalid(ServerMessages.fileTooLarge) }
                        try await writer.write(contentsOf: collector.pendingFileBytes)
                        collector.pendingFileBytes.clear()
                    }
                }
                try await writer.flush()
            }
        }
        guard !collector.inPart, collector.sawCompletePart else {
            throw APIFailure.invalid(ServerMessages.uploadIncomplete)
        }
        var form = MultipartForm(fields: collector.fields)
        if let file = collector.filePart {
            form.file = UploadedFile(
                fileName: file.fileName, contentType: file.contentType, size: collector.fileSize,
                temporaryPath: temporaryPath)
        }
        return form
    }
}

/// Receives MultipartKit's callbacks for one body. The parser calls back synchronously, so bytes
/// of the file part are parked in `pendingFileBytes` until the reader can write them.
private final class FormCollector {
    enum PartKind { case field(String), file, ignored }

    var fields: [(name: String, value: String)] = []
    var filePart: (fileName: String, contentType: String?)?
    var fileSize: Int64 = 0
    var pendingFileBytes = ByteBuffer()
    var failure: APIFailure?
    var inPart = false
    var sawCompletePart = false

    private var headers: [String: String] = [:]
    private var kind: PartKind?
    private var fieldValue = ByteBuffer()
    private var fieldBytesTotal = 0

    func header(_ name: String, _ value: String) {
        inPart = true
        headers[name.lowercased()] = value
    }

    func body(_ buffer: inout ByteBuffer) {
        inPart = true
        switch classify() {
        case .file: pendingFileBytes.writeBuffer(&buffer)
        case .field:
            fieldBytesTotal += buffer.readableBytes
            if fieldBytesTotal > MultipartFormReader.maxFieldBytes {
                failure = APIFailure.invalid("The form fields are too large!")
            } else {
                fieldValue.writeBuffer(&buffer)
            }
        case .ignored: break
        }
    }

    func partComplete() {
        if case .field(let name) = classify() {
            fields.append((name, String(buffer: fieldValue)))
        }
        headers = [:]
        kind = nil
        fieldValue.clear()
        inPart = false
        sawCompletePart = true
    }

    /// Decided once per part, from its headers, when the first body bytes (or its end) arrive.
    private func classify() -> PartKind {
        if let kind { return kind }
        let disposition = HeaderParameters(headers["content-disposition"] ?? "")
        let name = disposition.parameters["name"] ?? ""
        let decided: PartKind
        if let fileName = disposition.parameters["filename"] {
            if name == "file", filePart == nil {
                filePart = (HeaderParameters.formFileName(fileName), headers["content-type"])
                decided = .file
            } else {
                decided = .ignored
            }
        } else {
            decided = name.isEmpty ? .ignored : .field(name)
        }
        kind = decided
        return decided
    }
}
