/// The JSON envelope every API reply uses: `{"code", "msg", "data", "success", "failed"}`.
///
/// Business errors arrive with HTTP 200 and a `code` other than `"0000"`, so callers must look at
/// `code`, never only at the HTTP status.
public struct Envelope<Payload>: Sendable where Payload: Sendable {
    public var code: String
    public var msg: String
    public var data: Payload?
    public var success: Bool
    public var failed: Bool

    public init(code: String, msg: String, data: Payload?, success: Bool? = nil) {
        self.code = code
        self.msg = msg
        self.data = data
        let ok = success ?? (code == APICode.success.rawValue)
        self.success = ok
        self.failed = !ok
    }

    public static func ok(_ data: Payload?) -> Envelope {
        Envelope(code: APICode.success.rawValue, msg: "success", data: data)
    }

    public static func failure(_ code: APICode, _ msg: String) -> Envelope {
        Envelope(code: code.rawValue, msg: msg, data: nil)
    }

    public var isSuccess: Bool { code == APICode.success.rawValue }
}

extension Envelope: Encodable where Payload: Encodable {
    private enum CodingKeys: String, CodingKey { case code, msg, data, success, failed }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(code, forKey: .code)
        try c.encode(msg, forKey: .msg)
        // The live service always writes `data`, as `null` when there is nothing.
        if let data { try c.encode(data, forKey: .data) } else { try c.encodeNil(forKey: .data) }
        try c.encode(success, forKey: .success)
        try c.encode(failed, forKey: .failed)
    }
}

extension Envelope: Decodable where Payload: Decodable {
    private enum DecodingKeys: String, CodingKey { case code, msg, data, success, failed }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: DecodingKeys.self)
        // `code` is documented as a string; tolerate a number (`0`, `401`) by zero-padding to four digits.
        if let s = try? c.decode(String.self, forKey: .code) {
            code = s
        } else if let n = try? c.decode(Int.self, forKey: .code) {
            code = n < 10_000 ? String(repeating: "0", count: max(0, 4 - String(n).count)) + String(n) : String(n)
        } else {
            throw DecodingError.keyNotFound(DecodingKeys.code, .init(codingPath: c.codingPath, debugDescription: "envelope has no code"))
        }
        msg = (try? c.decodeIfPresent(String.self, forKey: .msg)) ?? ""
        if c.contains(.data), try !c.decodeNil(forKey: .data) {
            data = try c.decode(Payload.self, forKey: .data)
        } else {
            data = nil
        }
        let ok = code == APICode.success.rawValue
        success = (try? c.decodeIfPresent(Bool.self, forKey: .success)) ?? ok
        failed = (try? c.decodeIfPresent(Bool.self, forKey: .failed)) ?? !success
    }
}

/// A payload for envelopes whose `data` carries nothing we use (`null`, `{}`).
public struct EmptyPayload: Codable, Sendable, Equatable {
    public init() {}
    public init(from decoder: any Decoder) throws {}
    public func encode(to encoder: any Encoder) throws {
        _ = encoder.container(keyedBy: AnyKey.self)
    }
}

/// The body of an infrastructure error (a real HTTP 4xx/5xx from a gateway), which is not an envelope.
public struct InfrastructureErrorBody: Codable, Sendable, Equatable {
    public var timestamp: String?
    public var path: String?
    public var status: Int?
    public var error: String?
    public var requestId: String?

    public init(timestamp: String? = nil, path: String? = nil, status: Int? = nil, error: String? = nil, requestId: String? = nil) {
        self.timestamp = timestamp
        self.path = path
        self.status = status
        self.error = error
        self.requestId = requestId
    }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
