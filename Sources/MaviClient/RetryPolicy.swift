/// When and how often a failed request is tried again.
///
/// Delays grow exponentially and use "full jitter" (a uniform random delay between zero and the
/// exponential cap), so that many clients refused at once do not retry in lockstep. Which errors
/// are retried is decided by ``MaviClientError/isTransient`` and by what the operation can safely
/// repeat; this type only says how long to wait and when to stop.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in total, the first included. `1` disables retries.
    public var maxAttempts: Int
    /// The cap of the delay before the first retry; it doubles for each further retry.
    public var baseDelay: Duration
    /// No delay exceeds this, whatever the attempt or a server's `Retry-After`.
    public var maxDelay: Duration
    /// No retry starts later than this after the first attempt was sent. `nil`: only
    /// ``maxAttempts`` bounds the retries.
    public var deadline: Duration?

    public init(maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(500), maxDelay: Duration = .seconds(20), deadline: Duration? = .seconds(120)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.deadline = deadline
    }

    public static let standard = RetryPolicy()
    /// One attempt only.
    public static let never = RetryPolicy(maxAttempts: 1)

    /// The delay before retry number `retry` (1 for the first retry): uniform in
    /// `0 ... min(maxDelay, baseDelay · 2^(retry-1))`, and at least `minimum` (a server's
    /// `Retry-After`) when that is below ``maxDelay``.
    public func delay(
        beforeRetry retry: Int,
        atLeast minimum: Duration? = nil,
        using generator: inout some RandomNumberGenerator
    ) -> Duration {
        let exponent = min(max(retry - 1, 0), 30)
        let cap = min(maxDelay, baseDelay * (1 << exponent))
        let capSeconds = max(0, cap.seconds)
        let jittered = Duration.seconds(Double.random(in: 0...capSeconds, using: &generator))
        guard let minimum else { return jittered }
        return min(maxDelay, max(jittered, minimum))
    }

    public func delay(beforeRetry retry: Int, atLeast minimum: Duration? = nil) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(beforeRetry: retry, atLeast: minimum, using: &generator)
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
