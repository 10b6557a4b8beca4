import Foundation
import Hummingbird
import MaviAPI

/// A business error: answered as an envelope with HTTP 200, the way the live service does.
struct APIFailure: Error, Equatable {
    var code: APICode
    var msg: String

    init(_ code: APICode, _ msg: String) {
        self.code = code
        self.msg = msg
    }

    static func invalid(_ msg: String) -> APIFailure { APIFailure(.invalidParameter, msg) }
}

/// Builds JSON responses: envelopes and gateway-style infrastructure errors.
enum JSONReply {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        // The live service writes URLs with plain slashes. (Keys stay unsorted: sorting them costs
        // more than the rest of a 200-video page's encoding.)
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        do {
            let data = try encoder().encode(value)
            return Response(
                status: status,
                headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        } catch {
            return Response(status: .internalServerError)
        }
    }

    static func success<T: Encodable & Sendable>(_ data: T?) -> Response {
        json(Envelope<T>.ok(data))
    }

    /// `data: null` success, as `delete_videos` answers.
    static func successWithoutData() -> Response {
        json(Envelope<EmptyPayload>.ok(nil))
    }

    static func failure(_ failure: APIFailure) -> Response {
        json(Envelope<EmptyPayload>.failure(failure.code, failure.msg))
    }

    /// A gateway error: a real HTTP status with `{timestamp, path, status, error, requestId}`.
    static func infrastructure(_ status: HTTPResponse.Status, path: String) -> Response {
        let body = InfrastructureErrorBody(
            timestamp: ISO8601DateFormatter().string(from: Date()), path: path, status: status.code,
            error: status.reasonPhrase, requestId: String(UUID().uuidString.prefix(8)).lowercased())
        return json(body, status: status)
    }
}
