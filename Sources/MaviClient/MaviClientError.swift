import Foundation
import MaviAPI

/// A business error reported in an envelope: which endpoint, the code and the service's message.
public struct APIFailure: Sendable, Equatable, CustomStringConvertible {
    public var endpoint: MaviEndpoint
    /// The envelope's `code` (`"0401"`), or `"HTTP 401"` when only the HTTP status said it.
    public var code: String
    /// The service's `msg`; not a stable contract, for people only.
    public var message: String

    public init(endpoint: MaviEndpoint, code: String, message: String) {
        self.endpoint = endpoint
        self.code = code
        self.message = message
    }

    public var description: String { message.isEmpty ? code : "\(code): \(message)" }
}

/// A real HTTP error status, with the gateway's body when it sent one.
public struct HTTPFailure: Sendable, Equatable, CustomStringConvertible {
    public var endpoint: MaviEndpoint
    public var status: Int
    /// The `{timestamp, path, status, error, requestId}` body of an infrastructure error.
    public var infrastructure: InfrastructureErrorBody?
    /// The start of a body that was not JSON (an HTML error page), for diagnostics.
    public var bodySnippet: String?
    /// From a `Retry-After` header in seconds, if any.
    public var retryAfter: Duration?

    public init(endpoint: MaviEndpoint, status: Int, infrastructure: InfrastructureErrorBody? = nil, bodySnippet: String? = nil, retryAfter: Duration? = nil) {
        self.endpoint = endpoint
        self.status = status
        self.infrastructure = infrastructure
        self.bodySnippet = bodySnippet
        self.retryAfter = retryAfter
    }

    public var description: String {
        var text = "HTTP \(status)"
        if let body = infrastructure {
            if let error = body.error { text += " \(error)" }
            if let requestId = body.requestId { text += " (request \(requestId))" }
        } else if let bodySnippet, !bodySnippet.isEmpty {
            text += ": \(bodySnippet)"
        }
        return text
    }
}

/// Which wait ran out.
public enum TimeoutKind: String, Sendable, Equatable {
    /// Establishing the connection.
    case connect
    /// Waiting for a JSON reply, or for the head of a stream.
    case response
    /// A byte stream went silent while the caller was waiting for data.
    case idleRead
}

/// Every failure the client reports. Each case names the endpoint; none carries the API key.
public enum MaviClientError: Error, Sendable, Equatable {
    /// `0001` / `0003`: a parameter is wrong.
    case invalidParameter(APIFailure)
    /// `0001` with msg "network abnormal": the service's own transient failure.
    case networkAbnormal(APIFailure)
    /// `0401` or HTTP 401: the key is invalid or missing.
    case unauthorized(APIFailure)
    /// `0402`: not enough points.
    case insufficientBalance(APIFailure)
    /// `0403`: the account is disabled.
    case accountDisabled(APIFailure)
    /// `0409`: duplicate request.
    case duplicateRequest(APIFailure)
    /// `0429` or HTTP 429: over the service's rate limit.
    case rateLimited(APIFailure)
    /// `9009`: permission denied.
    case permissionDenied(APIFailure)
    /// An envelope code no documentation mentions.
    case unknownCode(APIFailure)
    /// A non-2xx HTTP status that carried no envelope.
    case httpStatus(HTTPFailure)
    /// A download answered with a JSON envelope instead of bytes.
    case jsonInsteadOfBytes(APIFailure)
    /// A download answered with something that is neither bytes nor JSON (an HTML page).
    case unexpectedContentType(endpoint: MaviEndpoint, contentType: String)
    /// The reply could not be read: bad JSON, not an envelope, or a malformed field.
    case invalidResponse(endpoint: MaviEndpoint, reason: String)
    /// A byte stream ended before it was complete.
    case streamCut(endpoint: MaviEndpoint, received: Int64, expected: Int64?, reason: String)
    /// HTTP 416: the range starts past the end; `completeLength` from `Content-Range: bytes */N`.
    case rangeNotSatisfiable(endpoint: MaviEndpoint, completeLength: Int64?)
    /// A 206 whose `Content-Range` is not the range asked for.
    case rangeMismatch(endpoint: MaviEndpoint, requested: ClosedRange<Int64>, contentRange: String?)
    /// No connection could be made: the request never reached the server.
    case connectionFailed(endpoint: MaviEndpoint, reason: String)
    /// The connection failed during the exchange.
    case transport(endpoint: MaviEndpoint, reason: String)
    case timeout(endpoint: MaviEndpoint, TimeoutKind)
    /// Refused before sending: the request breaks a documented limit.
    case invalidRequest(endpoint: MaviEndpoint, reason: String)
    /// The caller's task was cancelled.
    case cancelled
}

extension MaviClientError {
    /// Maps an envelope's code to its case; `0000` is not an error and gives `nil`.
    public static func fromEnvelope(code: String, message: String, endpoint: MaviEndpoint) -> MaviClientError? {
        let failure = APIFailure(endpoint: endpoint, code: code, message: message)
        switch APICode(rawValue: code) {
        case .success: return nil
        case .invalidParameter where isNetworkAbnormal(message): return .networkAbnormal(failure)
        case .invalidParameter, .invalidParameterAlt: return .invalidParameter(failure)
        case .unauthorized: return .unauthorized(failure)
        case .insufficientBalance: return .insufficientBalance(failure)
        case .accountDisabled: return .accountDisabled(failure)
        case .duplicateRequest: return .duplicateRequest(failure)
        case .rateLimited: return .rateLimited(failure)
        case .permissionDenied: return .permissionDenied(failure)
        case nil: return .unknownCode(failure)
        }
    }

    /// The vendor's examples retry `0001` when its msg is "network abnormal"; compare loosely
    /// because messages are not a stable contract.
    static func isNetworkAbnormal(_ message: String) -> Bool {
        message.trimmingCharacters(in: .whitespacesAndNewlines.union(.punctuationCharacters))
            .lowercased() == APIMessage.networkAbnormal
    }

    /// The endpoint the error happened on, if any.
    public var endpoint: MaviEndpoint? {
        switch self {
        case .invalidParameter(let f), .networkAbnormal(let f), .unauthorized(let f), .insufficientBalance(let f),
             .accountDisabled(let f), .duplicateRequest(let f), .rateLimited(let f), .permissionDenied(let f),
             .unknownCode(let f), .jsonInsteadOfBytes(let f):
            f.endpoint
        case .httpStatus(let f): f.endpoint
        case .unexpectedContentType(let e, _), .invalidResponse(let e, _), .streamCut(let e, _, _, _),
             .rangeNotSatisfiable(let e, _), .rangeMismatch(let e, _, _), .connectionFailed(let e, _),
             .transport(let e, _), .timeout(let e, _), .invalidRequest(let e, _):
            e
        case .cancelled: nil
        }
    }

    /// The envelope's failure, for the cases that carry one.
    public var apiFailure: APIFailure? {
        switch self {
        case .invalidParameter(let f), .networkAbnormal(let f), .unauthorized(let f), .insufficientBalance(let f),
             .accountDisabled(let f), .duplicateRequest(let f), .rateLimited(let f), .permissionDenied(let f),
             .unknownCode(let f), .jsonInsteadOfBytes(let f):
            f
        default: nil
        }
    }

    /// Worth another attempt of the same request later: the failure is about the moment, not the
    /// request. Authorization, validation, account and permission errors never are.
    public var isTransient: Bool {
        switch self {
        case .networkAbnormal, .rateLimited, .connectionFailed, .transport, .timeout, .streamCut:
            true
        case .httpStatus(let f):
            f.status >= 500 || f.status == 408
        default:
            false
        }
    }

    /// Certainly refused before the server acted on it, so that even a request that must not run
    /// twice (an upload) can be sent again.
    public var requestWasNotProcessed: Bool {
        switch self {
        case .rateLimited, .connectionFailed, .timeout(_, .connect): true
        case .httpStatus(let f): f.status == 503 || f.status == 429
        default: false
        }
    }

    /// How long the server asked us to wait, if it said.
    public var retryAfter: Duration? {
        if case .httpStatus(let f) = self { return f.retryAfter }
        return nil
    }

    /// The errno a filesystem should return for this failure.
    public var suggestedErrno: Int32 {
        switch self {
        case .unauthorized, .accountDisabled, .permissionDenied: EACCES
        case .invalidParameter, .invalidRequest: EINVAL
        case .timeout: ETIMEDOUT
        case .cancelled: EINTR
        case .httpStatus(let f):
            switch f.status {
            case 401, 403: EACCES
            case 404, 410: ENOENT
            case 408, 504: ETIMEDOUT
            default: EIO
            }
        case .jsonInsteadOfBytes(let f):
            // Messages are not a contract, but the documented "not found" ones are worth a hint.
            [APIMessage.downloadFailed, APIMessage.resourceMissing].contains(f.message) ? ENOENT : EIO
        default: EIO
        }
    }
}

extension MaviClientError: CustomStringConvertible, LocalizedError {
    public var description: String {
        switch self {
        case .invalidParameter(let f): "\(f.endpoint): invalid parameter (\(f))"
        case .networkAbnormal(let f): "\(f.endpoint): the service reported a network problem (\(f))"
        case .unauthorized(let f): "\(f.endpoint): the API key is invalid or missing (\(f))"
        case .insufficientBalance(let f): "\(f.endpoint): not enough points on the account (\(f))"
        case .accountDisabled(let f): "\(f.endpoint): the account is disabled (\(f))"
        case .duplicateRequest(let f): "\(f.endpoint): duplicate request (\(f))"
        case .rateLimited(let f): "\(f.endpoint): rate limit exceeded (\(f))"
        case .permissionDenied(let f): "\(f.endpoint): permission denied (\(f))"
        case .unknownCode(let f): "\(f.endpoint): the service reported an error (\(f))"
        case .httpStatus(let f): "\(f.endpoint): \(f)"
        case .jsonInsteadOfBytes(let f): "\(f.endpoint): the service sent an error instead of the file (\(f))"
        case .unexpectedContentType(let e, let type): "\(e): expected bytes, got \(type)"
        case .invalidResponse(let e, let reason): "\(e): unreadable reply: \(reason)"
        case .streamCut(let e, let received, let expected, let reason):
            "\(e): the stream ended after \(received)" + (expected.map { " of \($0)" } ?? "") + " bytes: \(reason)"
        case .rangeNotSatisfiable(let e, let length):
            "\(e): range not satisfiable" + (length.map { " (length \($0))" } ?? "")
        case .rangeMismatch(let e, let requested, let contentRange):
            "\(e): asked for bytes \(requested.lowerBound)-\(requested.upperBound), got Content-Range \(contentRange ?? "none")"
        case .connectionFailed(let e, let reason): "\(e): cannot connect: \(reason)"
        case .transport(let e, let reason): "\(e): connection failed: \(reason)"
        case .timeout(let e, let kind): "\(e): timed out (\(kind.rawValue))"
        case .invalidRequest(let e, let reason): "\(e): \(reason)"
        case .cancelled: "cancelled"
        }
    }

    public var errorDescription: String? { description }
}
