import Foundation

/// A small deterministic generator (SplitMix64): a failing fuzz case is repeated from its seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Malformed, truncated, huge and hostile inputs for parsers: random JSON built from hostile
/// pieces, and byte-level mutations of valid samples.
public struct HostileInput {
    public var rng: SeededGenerator

    public init(seed: UInt64) { rng = SeededGenerator(seed: seed) }

    /// Strings a server should never send, and some it might.
    public static let hostileStrings: [String] = [
        "", "null", "NULL", "true", "0", "-1", "../../etc/passwd", "a/b", "/", ".", "..", "nul\u{0}inside", "\u{0}",
        "\u{1}\u{7}\u{1b}[31m\n\r\t\u{7f}", "\u{202E}rtl\u{FEFF}", "😀🎬", "%2e%2e%2f", "\\", "\"", "'; DROP TABLE video;--",
        String(repeating: "x", count: 10_240), String(repeating: "é", count: 5_000), "VI606404158946574336", "PARSE", "FAIL",
        "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1e400", "NaN", "Infinity", " 12 ", "0x10",
    ]

    /// Numbers, as JSON text, at and beyond every limit.
    public static let hostileNumbers: [String] = [
        "0", "-0", "1", "-1", "3.5", "1e3", "1E400", "-1e400", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "-9223372036854775809", "18446744073709551616", "99999999999999999999999999999", "0.000000000000000000001", "2147483648",
        "-2147483649", "1.0", "4294967296",
    ]

    public static let keys = [
        "code", "msg", "data", "success", "failed", "videos", "total_count", "current_page", "page_size", "video_no", "video_name",
        "duration", "size", "status", "cause", "create_time", "datetime_taken", "camera_model", "latitude", "longitude", "tags",
        "video_url", "cover_url", "bucket", "blob", "fps", "width", "height", "resolution_label", "timestamp", "path", "error",
        "requestId", "videoNo", "taskId",
    ]

    public mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &rng) }
    public mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
    public mutating func pick<T>(_ items: [T]) -> T { items[int(0..<items.count)] }

    /// A JSON string literal of a hostile (or random) string, escaped as a server would, or not.
    public mutating func stringLiteral() -> String {
        let text: String
        if chance(0.6) {
            text = pick(Self.hostileStrings)
        } else {
            var scalars = String.UnicodeScalarView()
            for _ in 0..<int(0..<40) {
                if let s = Unicode.Scalar(UInt32(int(0..<0x3000))) { scalars.append(s) }
            }
            text = String(scalars)
        }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A random JSON value, nested at most `depth` deep, biased towards the API's keys.
    public mutating func jsonValue(depth: Int = 3) -> String {
        switch int(0..<(depth > 0 ? 9 : 6)) {
        case 0: return "null"
        case 1: return chance(0.5) ? "true" : "false"
        case 2, 3: return pick(Self.hostileNumbers)
        case 4, 5: return stringLiteral()
        case 6: return "[" + (0..<int(0..<4)).map { _ in jsonValue(depth: depth - 1) }.joined(separator: ",") + "]"
        default: return jsonObject(depth: depth - 1)
        }
    }

    public mutating func jsonObject(depth: Int = 3, keys: [String] = HostileInput.keys) -> String {
        var members: [String] = []
        for _ in 0..<int(0..<8) {
            members.append("\"\(pick(keys))\":\(jsonValue(depth: depth))")
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    /// An envelope around a random payload, sometimes with a list page shape.
    public mutating func envelope() -> String {
        let code = chance(0.7) ? "\"0000\"" : chance(0.5) ? stringLiteral() : pick(Self.hostileNumbers)
        let data: String
        if chance(0.5) {
            let videos = (0..<int(0..<4)).map { _ in jsonObject(depth: 2) }
            data = "{\"current_page\":\(pick(Self.hostileNumbers)),\"page_size\":\(jsonValue(depth: 0)),\"total_count\":\(jsonValue(depth: 0)),\"videos\":[\(videos.joined(separator: ","))]}"
        } else {
            data = jsonValue(depth: 3)
        }
        return "{\"code\":\(code),\"msg\":\(stringLiteral()),\"data\":\(data),\"success\":\(jsonValue(depth: 0)),\"failed\":\(jsonValue(depth: 0))}"
    }

    /// `sample` damaged: bytes flipped, cut, dropped, duplicated or replaced with invalid UTF-8,
    /// NUL or deep nesting.
    public mutating func mutate(_ sample: [UInt8]) -> [UInt8] {
        var bytes = sample
        for _ in 0..<int(1..<5) {
            let at = bytes.isEmpty ? 0 : int(0..<bytes.count)
            switch int(0..<9) {
            case 0 where !bytes.isEmpty: bytes[at] = UInt8(truncatingIfNeeded: int(0..<256))
            case 1: bytes = Array(bytes.prefix(at))
            case 2 where !bytes.isEmpty: bytes.removeSubrange(at..<min(bytes.count, at + int(1..<16)))
            case 3: bytes.insert(contentsOf: pick([[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x00], [0xE2, 0x82]]), at: at)
            case 4: bytes.insert(contentsOf: Array(String(repeating: "[", count: int(1..<3000)).utf8), at: at)
            case 5: bytes.insert(contentsOf: Array(pick(Self.hostileNumbers).utf8), at: at)
            case 6: bytes.insert(contentsOf: Array(stringLiteral().utf8), at: at)
            case 7 where bytes.count > 8:
                let from = int(0..<bytes.count - 4)
                bytes.insert(contentsOf: bytes[from..<min(bytes.count, from + int(1..<64))], at: at)
            default: bytes.insert(contentsOf: Array(",\"\(pick(Self.keys))\":\(jsonValue(depth: 1))".utf8), at: at)
            }
        }
        return bytes
    }
}
