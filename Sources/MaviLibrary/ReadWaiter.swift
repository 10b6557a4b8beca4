import Synchronization

/// One read waiting for its bytes. The cache wakes it when something it may need happened; the
/// read's deadline and its task's cancellation end the wait too. Each wait resumes exactly once.
final class ReadWaiter: Sendable {
    enum Signal: Sendable {
        /// Something changed: look again.
        case changed
        case expired
        case cancelled
    }

    private struct State {
        var continuation: CheckedContinuation<Signal, Never>?
        var expired = false
        var cancelled = false
        /// A wake that came while not waiting; the next wait returns at once.
        var pendingChange = false
    }

    let id: Int
    private let state = Mutex(State())

    init(id: Int) {
        self.id = id
    }

    /// Suspends until woken, expired or cancelled. `arm` runs first, inside the suspension: it
    /// registers the waiter with the cache under the cache's lock, and returns `false` when there
    /// is nothing to wait for after all.
    func wait(arm: (ReadWaiter) -> Bool) async -> Signal {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Signal, Never>) in
                guard arm(self) else {
                    continuation.resume(returning: .changed)
                    return
                }
                let immediate = state.withLock { state -> Signal? in
                    if state.cancelled { return .cancelled }
                    if state.expired { return .expired }
                    if state.pendingChange {
                        state.pendingChange = false
                        return .changed
                    }
                    state.continuation = continuation
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            resume { $0.cancelled = true }
        }
    }

    func wake() { resume { $0.pendingChange = true } }
    func expire() { resume { $0.expired = true } }

    var isExpired: Bool { state.withLock { $0.expired } }

    private func resume(_ mark: (inout State) -> Void) {
        let (continuation, signal) = state.withLock { state -> (CheckedContinuation<Signal, Never>?, Signal) in
            mark(&state)
            let signal: Signal = state.cancelled ? .cancelled : state.expired ? .expired : .changed
            guard let continuation = state.continuation else { return (nil, signal) }
            state.continuation = nil
            if signal == .changed { state.pendingChange = false }
            return (continuation, signal)
        }
        continuation?.resume(returning: signal)
    }
}
