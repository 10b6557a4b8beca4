import NIOCore

/// Sees an upload body before MultipartKit's parser does, and refuses one whose part headers
/// have a name byte outside ASCII. MultipartKit 4.7 looks each header name byte up in a table of
/// 128 entries and traps on any other byte: a single request could stop the server.
///
/// Conservative: every occurrence of `--boundary` is taken to start a header block, whatever the
/// parser would make of it; header names are ASCII tokens, so refusing never turns a valid form
/// away. Header blocks over 64 KiB are refused too (forms have a few short headers per part).
struct MultipartHeaderGuard {
    private let delimiter: [UInt8]
    /// The end of the previous chunk while looking for a delimiter, which may straddle chunks.
    private var carry: [UInt8] = []
    private var state = State.body
    private var headerBytes = 0

    static let maxHeaderBlock = 64 << 10

    private enum State {
        /// Outside any header block: looking for the next delimiter.
        case body
        /// After a delimiter, until the end of its line.
        case delimiterLine
        /// At the start of a header line: an empty line ends the block.
        case lineStart
        /// In a header name, before its colon.
        case name
        /// After the colon, until the end of the line.
        case value
    }

    init(boundary: String) {
        delimiter = Array("--\(boundary)".utf8)
    }

    /// False when the body must be refused.
    mutating func accept(_ chunk: ByteBuffer) -> Bool {
        chunk.withUnsafeReadableBytes { accept(Array($0)) }
    }

    private mutating func accept(_ incoming: [UInt8]) -> Bool {
        var bytes = incoming
        var i = 0
        while i < bytes.count {
            switch state {
            case .body:
                let searched = carry + bytes[i...]
                guard let found = Self.find(delimiter, in: searched) else {
                    carry = Array(searched.suffix(delimiter.count - 1))
                    return true
                }
                // Continue just after the delimiter, in the combined bytes.
                bytes = Array(searched)
                i = found + delimiter.count
                carry = []
                headerBytes = 0
                state = .delimiterLine
                continue
            case .delimiterLine:
                if bytes[i] == UInt8(ascii: "\n") { state = .lineStart }
            case .lineStart:
                switch bytes[i] {
                case UInt8(ascii: "\r"): break
                case UInt8(ascii: "\n"): state = .body
                case let b where b >= 0x80: return false
                default: state = .name
                }
            case .name:
                switch bytes[i] {
                case UInt8(ascii: ":"): state = .value
                case UInt8(ascii: "\n"): state = .lineStart
                case let b where b >= 0x80: return false
                default: break
                }
            case .value:
                if bytes[i] == UInt8(ascii: "\n") { state = .lineStart }
            }
            headerBytes += 1
            if headerBytes > Self.maxHeaderBlock { return false }
            i += 1
        }
        return true
    }

    /// The offset of the first occurrence of `needle` in `haystack`.
    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var start = 0
        while let p = haystack[start...].firstIndex(of: first), p + needle.count <= haystack.count {
            if haystack[p..<p + needle.count].elementsEqual(needle) { return p }
            start = p + 1
        }
        return nil
    }
}
