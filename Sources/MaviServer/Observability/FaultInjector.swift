import MaviAPI
import Synchronization

/// What a request must suffer before it is handled.
enum RequestFault: Equatable {
    case none
    /// Answer HTTP 503 with a gateway-style body.
    case serviceUnavailable
    /// Answer the `0429` envelope.
    case rateLimited
    /// Answer this API code's envelope.
    case refused(APICode)
}

/// How a streamed body must misbehave.
struct StreamFault: Equatable {
    enum Kind: Equatable {
        /// Close the connection.
        case cut
        /// Stop sending; close after the duration, or when the client leaves (`nil`).
        case stall(Duration?)
    }

    var afterBytes: Int64
    var kind: Kind
}

/// The live fault settings, shared by all requests. Bursts are used up one request at a time.
final class FaultInjector: Sendable {
    private let state: Mutex<FaultSettings>

    init(_ initial: FaultSettings) {
        state = Mutex(initial)
    }

    var settings: FaultSettings { state.withLock { $0 } }

    func replace(with settings: FaultSettings) {
        state.withLock { $0 = settings }
    }

    func latency(for endpoint: Endpoint) -> Duration? {
        state.withLock { s in
            guard s.applies(to: endpoint), let ms = s.latencyMs, ms > 0 else { return nil }
            return .milliseconds(ms)
        }
    }

    /// True while matching requests must get no answer.
    func hangs(_ endpoint: Endpoint) -> Bool {
        state.withLock { $0.applies(to: endpoint) && $0.hang == true }
    }

    /// The pace of streamed bodies, if they are slowed down.
    func streamRate(for endpoint: Endpoint) -> Int64? {
        state.withLock { s in
            guard s.applies(to: endpoint), let rate = s.streamBytesPerSecond, rate > 0 else { return nil }
            return rate
        }
    }

    /// The fault for one request, using up one unit of its burst.
    func takeRequestFault(for endpoint: Endpoint) -> RequestFault {
        state.withLock { s in
            guard s.applies(to: endpoint) else { return .none }
            if let n = s.http503, n > 0 {
                s.http503 = n - 1
                return .serviceUnavailable
            }
            if let n = s.rateLimited, n > 0 {
                s.rateLimited = n - 1
                return .rateLimited
            }
            if let code = s.refuseCode.flatMap(APICode.init(rawValue:)), s.refuseCount.map({ $0 > 0 }) ?? true {
                if let n = s.refuseCount { s.refuseCount = n - 1 }
                return .refused(code)
            }
            return .none
        }
    }

    /// The fault for one streamed body, using up one unit of its count (a cut wins over a stall).
    func takeStreamFault(for endpoint: Endpoint) -> StreamFault? {
        state.withLock { s in
            guard s.applies(to: endpoint) else { return nil }
            if let after = s.cutAfterBytes, s.cutCount.map({ $0 > 0 }) ?? true {
                if let n = s.cutCount { s.cutCount = n - 1 }
                return StreamFault(afterBytes: max(0, after), kind: .cut)
            }
            if let after = s.stallAfterBytes, s.stallCount.map({ $0 > 0 }) ?? true {
                if let n = s.stallCount { s.stallCount = n - 1 }
                return StreamFault(afterBytes: max(0, after), kind: .stall(s.stallMs.map { .milliseconds($0) }))
            }
            return nil
        }
    }
}

extension FaultSettings {
    func applies(to endpoint: Endpoint) -> Bool {
        endpoints.map { $0.contains(endpoint) } ?? true
    }
}
