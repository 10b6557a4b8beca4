/// Faults the server injects, for testing how clients cope. All off by default.
///
/// JSON (snake_case) is what `POST /_admin/faults` takes and `GET /_admin/faults` returns, e.g.
/// `{"http_503": 3, "endpoints": ["list_videos"]}` or `{"cut_after_bytes": 65536, "cut_count": 1}`.
/// Counts are bursts: each matching request uses one up, and the fault ends at zero.
public struct FaultSettings: Codable, Sendable, Equatable {
    /// Added to every matching request before it is handled.
    public var latencyMs: Int?
    /// The next N matching requests answer HTTP 503 with a gateway-style JSON body.
    public var http503: Int?
    /// The next N matching requests answer the `0429` envelope, whatever the real limits say.
    public var rateLimited: Int?
    /// Matching requests are refused with this API code's envelope (`0401`, `9009`…), without
    /// being acted on; `refuseCount` of them, or all while it is set.
    public var refuseCode: String?
    public var refuseCount: Int?
    /// Streamed bodies (downloads, file URLs) stop after this many bytes and the connection closes.
    public var cutAfterBytes: Int64?
    /// How many streams to cut; `nil` cuts every stream until the faults are changed.
    public var cutCount: Int?
    /// Streamed bodies stop sending after this many bytes but keep the connection open.
    public var stallAfterBytes: Int64?
    /// How many streams to stall; `nil` stalls every stream until the faults are changed.
    public var stallCount: Int?
    /// How long a stall lasts before the connection is closed; `nil` waits until the client goes
    /// away or the server stops.
    public var stallMs: Int?
    /// Streamed bodies are sent at no more than this many bytes a second: a slow network.
    public var streamBytesPerSecond: Int64?
    /// Matching requests get no answer at all while this is on, as from a server that stopped
    /// answering: each waits, connection open, until the faults change or its client gives up, and
    /// is then answered 503 without being processed. Requests after the change are served.
    public var hang: Bool?
    /// Endpoints the faults apply to; `nil` means all of them (the admin routes never fail).
    public var endpoints: [Endpoint]?

    public init(
        latencyMs: Int? = nil, http503: Int? = nil, rateLimited: Int? = nil, refuseCode: String? = nil, refuseCount: Int? = nil,
        cutAfterBytes: Int64? = nil, cutCount: Int? = nil,
        stallAfterBytes: Int64? = nil, stallCount: Int? = nil, stallMs: Int? = nil,
        streamBytesPerSecond: Int64? = nil, hang: Bool? = nil,
        endpoints: [Endpoint]? = nil
    ) {
        self.latencyMs = latencyMs
        self.http503 = http503
        self.rateLimited = rateLimited
        self.refuseCode = refuseCode
        self.refuseCount = refuseCount
        self.cutAfterBytes = cutAfterBytes
        self.cutCount = cutCount
        self.stallAfterBytes = stallAfterBytes
        self.stallCount = stallCount
        self.stallMs = stallMs
        self.streamBytesPerSecond = streamBytesPerSecond
        self.hang = hang
        self.endpoints = endpoints
    }

    enum CodingKeys: String, CodingKey {
        case latencyMs = "latency_ms", http503 = "http_503", rateLimited = "rate_limited"
        case refuseCode = "refuse_code", refuseCount = "refuse_count"
        case cutAfterBytes = "cut_after_bytes", cutCount = "cut_count"
        case stallAfterBytes = "stall_after_bytes", stallCount = "stall_count", stallMs = "stall_ms"
        case streamBytesPerSecond = "stream_bytes_per_second", hang
        case endpoints
    }

    /// True when no fault is active.
    public var isEmpty: Bool {
        (latencyMs ?? 0) <= 0 && (http503 ?? 0) <= 0 && (rateLimited ?? 0) <= 0
            && cutAfterBytes == nil && stallAfterBytes == nil && streamBytesPerSecond == nil && hang != true
    }
}
