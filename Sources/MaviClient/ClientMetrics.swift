import CoreMetrics

/// What the client reports through swift-metrics. Without a metrics backend bootstrapped (the
/// default, unless `mavifs mount --metrics-addr` is given) these are no-ops.
///
/// Handlers are made per call rather than kept: a backend bootstrapped after this module was first
/// used must still see every request, and the backends cache handlers by name and dimensions.
enum ClientMetrics {
    /// An attempt of a request was sent (the first and every retry).
    static func attempt(_ endpoint: MaviEndpoint) {
        Counter(label: "mavifs_api_requests_total", dimensions: [("endpoint", endpoint.rawValue)]).increment()
    }

    /// A failed attempt will be sent again after a backoff.
    static func retry(_ endpoint: MaviEndpoint) {
        Counter(label: "mavifs_api_retries_total", dimensions: [("endpoint", endpoint.rawValue)]).increment()
    }

    /// A request failed for good (no attempt left, or an error that retrying cannot fix).
    static func failure(_ endpoint: MaviEndpoint) {
        Counter(label: "mavifs_api_failures_total", dimensions: [("endpoint", endpoint.rawValue)]).increment()
    }

    /// Time from sending a request to receiving its response head: the network's time to first byte.
    static func firstByte(_ endpoint: MaviEndpoint, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let (seconds, attoseconds) = elapsed.components
        let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        Timer(label: "mavifs_api_first_byte_seconds", dimensions: [("endpoint", endpoint.rawValue)]).recordNanoseconds(nanoseconds)
    }
}
