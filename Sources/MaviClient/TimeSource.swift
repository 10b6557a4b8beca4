/// The clock that deadlines, idle limits and pacing are kept on, read as the time elapsed since
/// it was made.
///
/// Reading durations instead of one clock's instants lets the code that waits stay the same
/// whatever clock it is handed: mounts use ``continuous``, tests a clock they move by hand, so
/// that they can assert what happens at a given time instead of racing the scheduler.
public struct TimeSource: Sendable {
    private let read: @Sendable () -> Duration
    private let sleeper: @Sendable (Duration) async throws -> Void

    public init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let origin = clock.now
        read = { origin.duration(to: clock.now) }
        sleeper = { deadline in try await clock.sleep(until: origin.advanced(by: deadline), tolerance: nil) }
    }

    /// The system's monotonic clock, which goes on while the machine sleeps.
    public static let continuous = TimeSource(ContinuousClock())

    /// The time elapsed since this source was made.
    public var now: Duration { read() }

    /// Sleeps until ``now`` reaches `deadline`; throws `CancellationError` when cancelled.
    public func sleep(until deadline: Duration) async throws {
        try await sleeper(deadline)
    }

    public func sleep(for duration: Duration) async throws {
        try await sleeper(now + duration)
    }
}
