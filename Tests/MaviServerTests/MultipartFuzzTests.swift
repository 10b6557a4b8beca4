import Foundation
import Hummingbird
import MaviAPI
@testable import MaviServer
import NIOCore
import Testing
import TestSupport

/// The upload form parser takes malformed, truncated, huge and hostile bodies, in chunks of any
/// size: it returns a form or refuses with an API error, and writes only its temporary file.
@Suite("Multipart parser under fuzzing", .timeLimit(.minutes(3)))
struct MultipartFuzzTests {
    static let boundary = "----mavifsFuzzBoundary7MA4YWxkTrZu0gW"
    static let cases = Soak.scale(ci: 1_500, soak: 50_000)

    /// A well-formed upload body: text fields and a file part with a hostile file name.
    static func validBody(_ input: inout HostileInput) -> [UInt8] {
        var out = ""
        for _ in 0..<input.int(0..<5) {
            let name = input.pick(["tags", "tags[]", "camera_model", "unique_id", "datetime_taken", "callback", "x", ""])
            out += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(input.pick(HostileInput.hostileStrings).prefix(200))\r\n"
        }
        let fileName = input.pick(["../../../../tmp/evil.mp4", "a/b.mp4", "nul\u{0}.mp4", "..", "", "clip.mp4", "%2e%2e%2fx.mp4", "\"q\".mp4"])
        out += "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(fileName)\"\r\nContent-Type: video/mp4\r\n\r\n"
        var bytes = Array(out.utf8)
        bytes += (0..<input.int(0..<4096)).map { _ in UInt8(truncatingIfNeeded: input.int(0..<256)) }
        bytes += Array("\r\n--\(boundary)--\r\n".utf8)
        return bytes
    }

    /// `bytes` as a request body arriving in random-sized chunks.
    static func body(_ bytes: [UInt8], _ input: inout HostileInput) -> RequestBody {
        var chunks: [ByteBuffer] = []
        var at = 0
        while at < bytes.count {
            let n = min(bytes.count - at, input.int(1..<2048))
            chunks.append(ByteBuffer(bytes: bytes[at..<at + n]))
            at += n
        }
        return RequestBody(asyncSequence: chunks.async)
    }

    @Test("valid, damaged and random bodies: a form or an API error, and only the temporary file is written")
    func parser() async throws {
        let work = try TemporaryDirectory(prefix: "mavifs-multipart-fuzz")
        defer { work.remove() }
        let temporary = work.appending("upload.tmp")
        var input = HostileInput(seed: 0x5EED_0004)
        var forms = 0, refusals = 0, files = 0
        for i in 0..<Self.cases {
            let valid = Self.validBody(&input)
            let bytes: [UInt8] = switch i % 3 {
            case 0: valid
            case 1: input.mutate(valid)
            default: Array(input.jsonValue(depth: 3).utf8)
            }
            do {
                let form = try await MultipartFormReader.read(Self.body(bytes, &input), boundary: Self.boundary, temporaryPath: temporary, maxFileBytes: 1 << 20)
                forms += 1
                if let file = form.file {
                    files += 1
                    #expect(file.temporaryPath == temporary)
                    #expect(file.size >= 0 && file.size <= 1 << 20)
                }
            } catch is APIFailure {
                refusals += 1
            } catch {
                Issue.record("case \(i): \(type(of: error)) \(error)")
            }
            let written = try FileManager.default.contentsOfDirectory(atPath: work.path)
            #expect(written.allSatisfy { $0 == "upload.tmp" }, "\(written)")
        }
        reportFigure("multipart fuzz", "\(Self.cases) bodies: \(forms) forms (\(files) with a file), \(refusals) refused")
        #expect(forms > 0 && refusals > 0, "both outcomes are exercised")
    }

    @Test("a part header name with a byte over 0x7F is refused, wherever the body is split (MultipartKit alone traps on it)")
    func nonASCIIHeaderName() async throws {
        let work = try TemporaryDirectory(prefix: "mavifs-multipart-ascii")
        defer { work.remove() }
        let body = Array("--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"tags\"\r\n\r\nok\r\n--\(Self.boundary)\r\nX-Caf".utf8)
            + [0xC3, 0xA9] + Array(": 1\r\n\r\nv\r\n--\(Self.boundary)--\r\n".utf8)
        for split in 1..<body.count {
            let chunks = [ByteBuffer(bytes: body[..<split]), ByteBuffer(bytes: body[split...])]
            await #expect(throws: APIFailure.self, "split at \(split)") {
                _ = try await MultipartFormReader.read(
                    RequestBody(asyncSequence: chunks.async), boundary: Self.boundary, temporaryPath: work.appending("t"), maxFileBytes: 1 << 20)
            }
        }
    }

    @Test("a file larger than the limit, and fields larger than theirs, are refused")
    func limits() async throws {
        let work = try TemporaryDirectory(prefix: "mavifs-multipart-limits")
        defer { work.remove() }
        var input = HostileInput(seed: 5)
        let big = Array("--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\n\r\n".utf8)
            + [UInt8](repeating: 7, count: 3 << 20) + Array("\r\n--\(Self.boundary)--\r\n".utf8)
        await #expect(throws: APIFailure.self) {
            _ = try await MultipartFormReader.read(Self.body(big, &input), boundary: Self.boundary, temporaryPath: work.appending("t"), maxFileBytes: 1 << 20)
        }
        let field = Array("--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"tags\"\r\n\r\n".utf8)
            + [UInt8](repeating: 0x61, count: 2 << 20) + Array("\r\n--\(Self.boundary)--\r\n".utf8)
        await #expect(throws: APIFailure.self) {
            _ = try await MultipartFormReader.read(Self.body(field, &input), boundary: Self.boundary, temporaryPath: work.appending("t"), maxFileBytes: 1 << 20)
        }
    }
}

private extension Array where Element == ByteBuffer {
    /// The buffers as an async sequence, one at a time.
    var async: AsyncStream<ByteBuffer> {
        AsyncStream { continuation in
            for buffer in self { continuation.yield(buffer) }
            continuation.finish()
        }
    }
}
