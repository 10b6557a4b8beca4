import Foundation

/// The outcome of reading a `Range` header against a file of known size.
enum ByteRangeRequest: Equatable {
    /// No usable range: send the whole file with 200 (absent, malformed or multi-range headers,
    /// which RFC 9110 lets a server ignore).
    case whole
    /// Send these bytes with 206.
    case partial(Range<Int64>)
    /// The range starts past the end: 416 with `Content-Range: bytes */size`.
    case unsatisfiable

    /// Reads `bytes=a-b`, `bytes=a-` and `bytes=-n`.
    init(header: String?, fileSize: Int64) {
        guard let header else { self = .whole; return }
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("bytes="), !trimmed.contains(",") else { self = .whole; return }
        let spec = trimmed.dropFirst(6).trimmingCharacters(in: .whitespaces)
        guard let dash = spec.firstIndex(of: "-") else { self = .whole; return }
        let first = spec[..<dash].trimmingCharacters(in: .whitespaces)
        let last = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
        switch (Int64(first), Int64(last)) {
        case (let start?, let end?) where start <= end && start >= 0:
            guard start < fileSize else { self = .unsatisfiable; return }
            self = .partial(start..<min(end + 1, fileSize))
        case (let start?, nil) where last.isEmpty && start >= 0:
            guard start < fileSize else { self = .unsatisfiable; return }
            self = .partial(start..<fileSize)
        case (nil, let suffix?) where first.isEmpty && suffix >= 0:
            guard suffix > 0, fileSize > 0 else { self = .unsatisfiable; return }
            self = .partial(max(0, fileSize - suffix)..<fileSize)
        default:
            self = .whole
        }
    }
}
