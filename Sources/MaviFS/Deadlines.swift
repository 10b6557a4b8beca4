import Synchronization

/// An operation ran out of its time.
struct DeadlineExpired: Error {}

/// Waits that end at a deadline whatever the awaited work does, so that no request of the mount
/// can hang on a network that stopped answering.
enum Deadlines {
    /// Runs `operation` and gives up on it at `deadline`, for work that ends promptly once
    /// cancelled (a read waiting for blocks withdraws, and the download stream other readers use
    /// goes on). Runs as a child task, on the caller's executor.
    static func racing<T: Sendable>(until deadline: ContinuousClock.Instant, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        try await racing(until: deadline, postponedBy: .zero, while: nil, operation)
    }

    /// ``racing(until:_:)`` whose deadline moves while `waiting` says the operation waits in a
    /// queue that moves (looked at every second): it is then at least `postponement` after the
    /// last time it did.
    static func racing<T: Sendable>(
        until deadline: ContinuousClock.Instant, postponedBy postponement: Duration, while waiting: (@Sendable () -> Bool)?,
        _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                guard let waiting else {
                    try await Task.sleep(until: deadline, clock: .continuous)
                    return nil
                }
                var deadline = deadline
                while true {
                    let now = ContinuousClock.now
                    if waiting() { deadline = max(deadline, now + postponement) }
                    guard now < deadline else { return nil }
                    try await Task.sleep(until: min(deadline, now + .seconds(1)), clock: .continuous)
                }
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw DeadlineExpired() }
            return value
        }
    }

    /// Runs `operation` in a task of its own and waits for it until `deadline`, for work that may
    /// not end when cancelled (awaiting a listing refresh shared with other callers). On expiry
    /// this throws at once; the operation goes on to its end, and is cancelled only when
    /// `cancelOnExpiry`. Cancelling the caller ends the wait too.
    static func abandoning<T: Sendable>(
        at deadline: ContinuousClock.Instant, cancelOnExpiry: Bool, _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let outcome = Outcome<T>()
        let work = Task {
            do {
                outcome.settle(.success(try await operation()))
            } catch {
                outcome.settle(.failure(error))
            }
        }
        let timer = Task {
            try? await Task.sleep(until: deadline, clock: .continuous)
            if !Task.isCancelled { outcome.settle(.failure(DeadlineExpired())) }
        }
        defer {
            timer.cancel()
            if cancelOnExpiry { work.cancel() }
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { outcome.wait($0) }
        } onCancel: {
            outcome.settle(.failure(CancellationError()))
        }
    }
}

/// The first result offered wins; a waiter gets it whether it came before or after it waited.
private final class Outcome<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var result: Result<T, any Error>?
    }

    private let state = Mutex(State())

    func settle(_ result: Result<T, any Error>) {
        let continuation = state.withLock { s -> CheckedContinuation<T, any Error>? in
            guard s.result == nil else { return nil }
            s.result = result
            defer { s.continuation = nil }
            return s.continuation
        }
        continuation?.resume(with: result)
    }

    func wait(_ continuation: CheckedContinuation<T, any Error>) {
        let ready = state.withLock { s -> Result<T, any Error>? in
            if let result = s.result { return result }
            s.continuation = continuation
            return nil
        }
        if let ready { continuation.resume(with: ready) }
    }
}
