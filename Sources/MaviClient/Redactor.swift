import Foundation

/// Removes the API key from text that came from elsewhere (a server's message or error page, a
/// library's error description) before it goes into an error or a log line. A server that echoes
/// request headers back must not make the key appear in our output.
struct Redactor: Sendable {
    private let secret: String?

    init(key: APIKey?) {
        secret = key?.secret
    }

    func scrub(_ text: String) -> String {
        guard let secret, !secret.isEmpty else { return text }
        return text.replacingOccurrences(of: secret, with: "<redacted>")
    }
}
