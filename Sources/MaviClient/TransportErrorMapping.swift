import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix

extension MaviClientError {
    /// Turns whatever AsyncHTTPClient, NIO or Swift threw into a ``MaviClientError``.
    static func classify(_ error: any Error, endpoint: MaviEndpoint, redactor: Redactor) -> MaviClientError {
        if let error = error as? MaviClientError { return error }
        if error is CancellationError { return .cancelled }
        let reason = redactor.scrub(String(describing: error))

        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .tlsHandshakeTimeout, .getConnectionFromPoolTimeout:
                return .timeout(endpoint: endpoint, .connect)
            case .readTimeout:
                return .timeout(endpoint: endpoint, .idleRead)
            case .deadlineExceeded:
                return .timeout(endpoint: endpoint, .response)
            case .cancelled, .requestStreamCancelled:
                return Task.isCancelled ? .cancelled : .transport(endpoint: endpoint, reason: reason)
            case .invalidURL, .emptyHost, .emptyScheme, .alreadyShutdown:
                return .invalidRequest(endpoint: endpoint, reason: reason)
            default:
                return .transport(endpoint: endpoint, reason: reason)
            }
        }
        if let error = error as? NIOConnectionError {
            return .connectionFailed(endpoint: endpoint, reason: Self.connectionReason(error) ?? reason)
        }
        if case ChannelError.connectTimeout = error {
            return .timeout(endpoint: endpoint, .connect)
        }
        if let error = error as? IOError, [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL].contains(error.errnoCode) {
            return .connectionFailed(endpoint: endpoint, reason: String(cString: strerror(error.errnoCode)))
        }
        if let error = error as? NIOTooManyBytesError {
            return .invalidResponse(endpoint: endpoint, reason: "reply larger than \(error.maxBytes.map(String.init) ?? "the limit") bytes")
        }
        return .transport(endpoint: endpoint, reason: reason)
    }

    /// "Connection refused (127.0.0.1:1)": what each address answered, as the system words it
    /// (NIO's own description nests the errno inside a sentence of its own).
    private static func connectionReason(_ error: NIOConnectionError) -> String? {
        let failures = error.connectionErrors.map { failure in
            let why = (failure.error as? IOError).map { String(cString: strerror($0.errnoCode)) } ?? "\(failure.error)"
            return "\(why) (\(failure.target))"
        }
        return failures.isEmpty ? nil : failures.joined(separator: "; ")
    }
}
