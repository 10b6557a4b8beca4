import Synchronization

/// A counting semaphore over bytes, first come first served among equals: bounds the memory of
/// read buffers in flight whatever the number of concurrent reads. An urgent taker (a read that
/// somebody waits on) goes before every waiting taker that is not.
final class ByteBudget: Sendable {
    fileprivate struct State {
        var available: Int
        var queue: [(id: Int, bytes: Int, urgent: Bool, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID = 0
    }

    let capacity: Int
    private let state: Mutex<State>

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        state = Mutex(State(available: max(1, capacity)))
    }

    /// Waits until `bytes` (clamped to the capacity, so one huge request cannot wait forever) are
    /// free and takes them; returns what was taken, to give back with ``release(_:)``.
    func acquire(_ bytes: Int, urgent: Bool = false) async throws -> Int {
        let wanted = min(max(bytes, 0), capacity)
        let id = state.withLock { state -> Int? in
            if state.mayTake(wanted, urgent: urgent) {
                state.available -= wanted
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return wanted }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let immediate = state.withLock { state -> Bool in
                    if state.mayTake(wanted, urgent: urgent) {
                        state.available -= wanted
                        return true
                    }
                    let place = urgent ? state.queue.firstIndex { !$0.urgent } ?? state.queue.endIndex : state.queue.endIndex
                    state.queue.insert((id, wanted, urgent, continuation), at: place)
                    return false
                }
                if immediate { continuation.resume() }
            }
        } onCancel: {
            let cancelled = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let position = state.queue.firstIndex(where: { $0.id == id }) else { return nil }
                return state.queue.remove(at: position).continuation
            }
            cancelled?.resume(throwing: CancellationError())
        }
        return wanted
    }

    /// Takers waiting for their turn (for tests, which wait on it instead of sleeping).
    var waiting: Int { state.withLock { $0.queue.count } }

    func release(_ bytes: Int) {
        let ready = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.available += bytes
            var ready: [CheckedContinuation<Void, any Error>] = []
            while let first = state.queue.first, first.bytes <= state.available {
                state.available -= first.bytes
                ready.append(state.queue.removeFirst().continuation)
            }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }
}

extension ByteBudget.State {
    /// Free enough, and nobody who goes first waits.
    fileprivate func mayTake(_ bytes: Int, urgent: Bool) -> Bool {
        guard available >= bytes else { return false }
        return urgent ? !queue.contains { $0.urgent } : queue.isEmpty
    }
}
