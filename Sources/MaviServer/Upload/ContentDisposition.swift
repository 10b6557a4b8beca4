import Foundation

/// Parameters of a header value such as `form-data; name="file"; filename="a.mp4"` or
/// `multipart/form-data; boundary=xyz`. Names are lower-cased; quoted values are unquoted;
/// RFC 5987 `name*=UTF-8''…` values are percent-decoded and win over the plain ones.
struct HeaderParameters: Equatable {
    var value: String
    var parameters: [String: String]

    init(_ header: String) {
        var parts: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for ch in header {
            if escaped { current.append(ch); escaped = false; continue }
            switch ch {
            case "\\" where quoted: escaped = true; current.append(ch)
            case "\"": quoted.toggle(); current.append(ch)
            case ";" where !quoted: parts.append(current); current = ""
            default: current.append(ch)
            }
        }
        parts.append(current)
        value = parts.first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        var parameters: [String: String] = [:]
        var extended: [String: String] = [:]
        for part in parts.dropFirst() {
            guard let eq = part.firstIndex(of: "=") else { continue }
            let name = part[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            var raw = part[part.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if name.hasSuffix("*") {
                // charset'language'percent-encoded
                let pieces = raw.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
                if pieces.count == 3, let decoded = String(pieces[2]).removingPercentEncoding {
                    extended[String(name.dropLast())] = decoded
                }
                continue
            }
            if raw.count >= 2, raw.hasPrefix("\""), raw.hasSuffix("\"") {
                raw = String(raw.dropFirst().dropLast())
                    .replacingOccurrences(of: "\\\"", with: "\"")
                    .replacingOccurrences(of: "\\\\", with: "\\")
            }
            parameters[name] = raw
        }
        parameters.merge(extended) { _, new in new }
        self.parameters = parameters
    }
}

extension HeaderParameters {
    /// A `filename` from a form part as its sender meant it. Browsers (and the mavifs client)
    /// write `"`, CR and LF as `%22`, `%0D` and `%0A` (WHATWG); other senders escape a quote with
    /// a backslash, which the quoted-string parsing above already undoes. Only these three
    /// sequences are decoded: any other `%` is part of the name ("100% fun.mp4").
    static func formFileName(_ raw: String) -> String {
        guard raw.contains("%") else { return raw }
        return raw.replacingOccurrences(of: "%22", with: "\"")
            .replacingOccurrences(of: "%0D", with: "\r", options: .caseInsensitive)
            .replacingOccurrences(of: "%0A", with: "\n", options: .caseInsensitive)
    }
}
