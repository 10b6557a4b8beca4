/// Processing status of a video.
///
/// The live service says `PARSE`, `UNPARSE` or `FAIL`; one published spec spells failure `FAILED`
/// and legacy docs `PARSE_ERROR`. Any spelling we do not know is treated as a failure, keeping the
/// raw text, so a video in an unexpected state is never presented as ready.
public enum VideoStatus: Sendable, Hashable, CustomStringConvertible {
    case parsed
    case unparsed
    case failed(spelling: String)

    public static let fail = VideoStatus.failed(spelling: "FAIL")

    public init(wireValue: String) {
        switch wireValue.uppercased() {
        case "PARSE", "PARSED": self = .parsed
        case "UNPARSE", "UNPARSED": self = .unparsed
        case "FAIL": self = .fail
        default: self = .failed(spelling: wireValue)
        }
    }

    /// The spelling the live service uses today; also the directory name under `by-status/`.
    public var wireValue: String {
        switch self {
        case .parsed: "PARSE"
        case .unparsed: "UNPARSE"
        case .failed: "FAIL"
        }
    }

    public var description: String { wireValue }

    public var isFailed: Bool { if case .failed = self { true } else { false } }

    /// The three spellings accepted by the `status` filter of `list_videos`.
    public static let filterValues = ["UNPARSE", "PARSE", "FAIL"]

    public static func == (a: VideoStatus, b: VideoStatus) -> Bool { a.wireValue == b.wireValue }
    public func hash(into h: inout Hasher) { h.combine(wireValue) }
}

extension VideoStatus: Codable {
    public init(from decoder: any Decoder) throws {
        self.init(wireValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(wireValue)
    }
}
