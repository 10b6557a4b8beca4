import Synchronization

/// A clock that moves only when a test moves it, so that time-dependent behaviour (idle limits,
/// pacing, deadlines) is asserted exactly, whatever the scheduler does meanwhile.
///
/// Unlike swift-clocks' `TestClock`, it tells how many tasks sleep on it and until when, so a
/// test can wait until the code under test has gone to sleep before it moves the clock, instead
/// of hoping that a few yields were enough.
public final class ManualClock: Clock, Sendable {
    public struct Instant: InstantProtocol {
        public let offset: Duration
        public init(offset: Duration) { self.offset = offset }
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private struct Sleeper {
        let id: UInt64
        let deadline: Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [Sleeper] = []
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var now: Instant { state.withLock { $0.now } }
    public var minimumResolution: Duration { .zero }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { state -> UInt64 in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { state -> Result<Void, any Error>? in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadline <= state.now { return .success(()) }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let cancelled = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            cancelled?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock on and wakes every sleeper whose deadline has come. The woken tasks run
    /// afterwards, on their own: wait for what they do, not for time.
    public func advance(by duration: Duration) {
        let due = state.withLock { state -> [Sleeper] in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// How long after now each sleeper wakes, soonest first.
    public var sleepers: [Duration] {
        state.withLock { state in state.sleepers.map { state.now.duration(to: $0.deadline) }.sorted() }
    }

    /// Runs `body`, moving the clock on by each sleep as soon as a task sleeps on it, until
    /// `body` returns: every wait on the clock ends at once, at exactly its time, however slowly
    /// the machine runs. The clock only starts moving once `startWhen` holds. Returns the value
    /// and the sleeps, in the order they were ended.
    public func run<T: Sendable>(
        startWhen: @escaping @Sendable () -> Bool = { true }, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> (value: T, sleeps: [Duration]) {
        let finished = OneShot<Result<T, any Error>>()
        let runner = Task {
            do { finished.fulfil(.success(try await body())) } catch { finished.fulfil(.failure(error)) }
        }
        var sleeps: [Duration] = []
        var started = false
        while finished.current == nil {
            started = started || startWhen()
            if started, let next = sleepers.first {
                sleeps.append(next)
                advance(by: next)
            } else {
                try await Task.sleep(for: .milliseconds(1))
            }
        }
        await runner.value
        return (try finished.current!.get(), sleeps)
    }

    /// Waits (in real time, at most `timeout` seconds) until at least `count` tasks sleep on
    /// this clock.
    public func waitForSleepers(_ count: Int = 1, timeout: Double = 20) async throws {
        try await waitUntil("\(count) sleeper(s) on the manual clock", timeout: timeout) { self.sleepers.count >= count }
    }
}
