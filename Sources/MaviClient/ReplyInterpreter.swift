import Foundation
import MaviAPI
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Reads what a server answered into a payload or a ``MaviClientError``.
///
/// The rules, in order: an envelope whose code is not `0000` is that business error whatever the
/// HTTP status; a non-2xx status without an envelope is an HTTP error (carrying the gateway's
/// `{timestamp, path, status, error, requestId}` body or the start of an HTML page); a 2xx reply
/// that is not an envelope, or whose `data` does not decode, is an unreadable reply.
struct ReplyInterpreter: Sendable {
    let endpoint: MaviEndpoint
    let redactor: Redactor

    /// The `data` of a successful envelope (`nil` when it is `null`), or the error the reply means.
    func payload<Payload: Decodable & Sendable>(_ type: Payload.Type, status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer) throws(MaviClientError) -> Payload? {
        guard let header = envelopeHeader(body) else {
            if (200..<300).contains(status.code) {
                throw .invalidResponse(endpoint: endpoint, reason: "not a JSON envelope: \(snippet(body))")
            }
            throw httpFailure(status: status, headers: headers, body: body)
        }
        // Both the code and the message are the server's text, and may echo the key.
        if let error = MaviClientError.fromEnvelope(code: redactor.scrub(header.code), message: redactor.scrub(header.msg), endpoint: endpoint) {
            throw error
        }
        guard (200..<300).contains(status.code) else {
            throw httpFailure(status: status, headers: headers, body: body)
        }
        do {
            return try JSONDecoder().decode(Envelope<Payload>.self, from: body).data
        } catch {
            throw .invalidResponse(endpoint: endpoint, reason: redactor.scrub(Self.describe(error)))
        }
    }

    /// The error a JSON body means where file bytes were expected. Codes with a meaning of their
    /// own (authorization, rate limit, "network abnormal", …) keep it, so that they are retried or
    /// reported as such; the rest, including a nonsensical `0000`, say "JSON instead of bytes".
    func refusalInsteadOfBytes(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer) -> MaviClientError {
        guard let header = envelopeHeader(body) else {
            if (200..<300).contains(status.code) {
                return .invalidResponse(endpoint: endpoint, reason: "JSON that is not an envelope where bytes were expected: \(snippet(body))")
            }
            return httpFailure(status: status, headers: headers, body: body)
        }
        let message = redactor.scrub(header.msg)
        let code = redactor.scrub(header.code)
        let failure = APIFailure(endpoint: endpoint, code: code, message: message)
        switch MaviClientError.fromEnvelope(code: code, message: message, endpoint: endpoint) {
        case nil, .invalidParameter?, .unknownCode?: return .jsonInsteadOfBytes(failure)
        case let mapped?: return mapped
        }
    }

    /// The error for a non-2xx status whose body is not an envelope with a failure code.
    func httpFailure(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer) -> MaviClientError {
        let infrastructure = infrastructureBody(body)
        let text = infrastructure == nil ? snippet(body) : nil
        switch status.code {
        case 401:
            return .unauthorized(APIFailure(endpoint: endpoint, code: "HTTP 401", message: infrastructure?.error ?? text ?? ""))
        case 429:
            return .rateLimited(APIFailure(endpoint: endpoint, code: "HTTP 429", message: infrastructure?.error ?? text ?? ""))
        default:
            return .httpStatus(HTTPFailure(
                endpoint: endpoint, status: Int(status.code), infrastructure: infrastructure,
                bodySnippet: text, retryAfter: Self.retryAfter(headers)
            ))
        }
    }

    private func envelopeHeader(_ body: ByteBuffer) -> Envelope<EmptyPayload>? {
        try? JSONDecoder().decode(Envelope<EmptyPayload>.self, from: body)
    }

    private func infrastructureBody(_ body: ByteBuffer) -> InfrastructureErrorBody? {
        guard var decoded = try? JSONDecoder().decode(InfrastructureErrorBody.self, from: body),
              decoded.status != nil || decoded.error != nil else { return nil }
        decoded.error = decoded.error.map(redactor.scrub)
        decoded.path = decoded.path.map(redactor.scrub)
        return decoded
    }

    /// The start of a body as one line of text, for error messages: HTML pages and the like.
    /// The key is scrubbed before the text is cut, so no part of it survives at the cut.
    func snippet(_ body: ByteBuffer, limit: Int = 200) -> String {
        let bytes = body.getBytes(at: body.readerIndex, length: min(body.readableBytes, limit * 4 + redactor.keyLength)) ?? []
        let text = redactor.scrub(String(decoding: bytes, as: UTF8.self))
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let cut = text.count > limit ? String(text.prefix(limit)) + "…" : text
        return cut.isEmpty ? "(empty body)" : cut
    }

    /// `Retry-After` in seconds; the HTTP-date form is rare from APIs and ignored.
    static func retryAfter(_ headers: HTTPHeaders) -> Duration? {
        guard let value = headers.first(name: "retry-after"), let seconds = Int(value.trimmingCharacters(in: .whitespaces)),
              seconds >= 0 else { return nil }
        return .seconds(seconds)
    }

    /// A short description of a decoding failure: where in the JSON and what.
    static func describe(_ error: any Error) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            let text = codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.isEmpty ? "the reply" : String(text.drop(while: { $0 == "." }))
        }
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])): missing"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        case DecodingError.dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        default:
            return String(describing: error)
        }
    }
}
