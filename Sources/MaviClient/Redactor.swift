import Foundation

/// Removes the API key from text that came from elsewhere (a server's message or error page, a
/// library's error description) before it goes into an error or a log line. A server that echoes
/// request headers back must not make the key appear in our output.
struct Redactor: Sendable {
    private let secret: String?

    init(key: APIKey?) {
        secret = key?.secret
    }

    /// Bytes of the key: text cut to a length must be read this much further before scrubbing,
    /// so a key that straddles the cut is seen whole.
    var keyLength: Int { secret?.utf8.count ?? 0 }

    /// Matches bytes, not characters: a key followed by a combining mark is one character less
    /// than the key, and would not be found by a comparison of characters.
    func scrub(_ text: String) -> String {
        guard let secret, !secret.isEmpty else { return text }
        let needle = Array(secret.utf8)
        let haystack = Array(text.utf8)
        guard haystack.count >= needle.count else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(haystack.count)
        var i = 0
        var found = false
        while i < haystack.count {
            if haystack[i] == needle[0], i + needle.count <= haystack.count, haystack[i..<i + needle.count].elementsEqual(needle) {
                out += Self.replacement
                i += needle.count
                found = true
            } else {
                out.append(haystack[i])
                i += 1
            }
        }
        return found ? String(decoding: out, as: UTF8.self) : text
    }

    private static let replacement = Array("<redacted>".utf8)
}
