import Foundation

/// Parses a `multipart/form-data` body, the way the replay server checks what an upload sent.
struct MultipartPart: Equatable {
    var headers: [String: String]
    var content: [UInt8]

    /// A parameter of the Content-Disposition header, such as `name` or `filename`.
    func disposition(_ parameter: String) -> String? {
        guard let header = headers["content-disposition"] else { return nil }
        for piece in header.split(separator: ";") {
            let pair = piece.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0] == parameter { return String(pair[1]).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        }
        return nil
    }

    var text: String { String(decoding: content, as: UTF8.self) }
}

enum MultipartParser {
    static func boundary(contentType: String) -> String? {
        contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            .first { $0.hasPrefix("boundary=") }.map { String($0.dropFirst("boundary=".count)) }
    }

    static func parse(_ body: [UInt8], boundary: String) throws -> [MultipartPart] {
        let delimiter = Array("--\(boundary)".utf8)
        var positions: [Int] = []
        var index = 0
        while let found = find(delimiter, in: body, from: index) {
            positions.append(found)
            index = found + delimiter.count
        }
        guard positions.count >= 2 else { throw TestFailure("no multipart boundaries") }
        let closing = positions.last!
        guard Array(body[(closing + delimiter.count)...].prefix(2)) == Array("--".utf8) else { throw TestFailure("no closing boundary") }

        var parts: [MultipartPart] = []
        for (start, end) in zip(positions, positions.dropFirst()) {
            // Each part: CRLF after the delimiter, headers, blank line, content, CRLF before the next.
            let partStart = start + delimiter.count + 2
            let partEnd = end - 2
            guard partStart <= partEnd, Array(body[partEnd..<end]) == Array("\r\n".utf8) else { throw TestFailure("malformed part") }
            let part = Array(body[partStart..<partEnd])
            guard let blank = find(Array("\r\n\r\n".utf8), in: part, from: 0) else { throw TestFailure("part without headers") }
            var headers: [String: String] = [:]
            for line in String(decoding: part[..<blank], as: UTF8.self).components(separatedBy: "\r\n") {
                let pair = line.split(separator: ":", maxSplits: 1)
                if pair.count == 2 { headers[pair[0].lowercased()] = pair[1].trimmingCharacters(in: .whitespaces) }
            }
            parts.append(MultipartPart(headers: headers, content: Array(part[(blank + 4)...])))
        }
        return parts
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        var index = start
        while index <= haystack.count - needle.count {
            if haystack[index] == needle[0], Array(haystack[index..<(index + needle.count)]) == needle { return index }
            index += 1
        }
        return nil
    }
}
