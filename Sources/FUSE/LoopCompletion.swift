import Synchronization

/// A one-shot result that any number of tasks can wait for, with or without a time limit.
final class LoopCompletion: Sendable {
    private struct State {
        var status: Int32?
        var waiters: [UInt64: CheckedContinuation<Int32?, Never>] = [:]
        var nextWaiter: UInt64 = 0
        /// Waiters whose time ran out before they started waiting.
        var expired: Set<UInt64> = []
    }

    private let state = Mutex(State())

    var isComplete: Bool { state.withLock { $0.status != nil } }

    func complete(_ status: Int32) {
        let waiters = state.withLock { s -> [CheckedContinuation<Int32?, Never>] in
            guard s.status == nil else { return [] }
            s.status = status
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        waiters.forEach { $0.resume(returning: status) }
    }

    func wait() async -> Int32 {
        // Without a time limit the result always arrives; nil cannot come back.
        await wait(timeout: nil) ?? -1
    }

    /// The status, or `nil` if `timeout` seconds passed first.
    func wait(timeout: Double?) async -> Int32? {
        let id = state.withLock { s -> UInt64 in
            s.nextWaiter += 1
            return s.nextWaiter
        }
        if let timeout {
            Task { [self] in
                try? await Task.sleep(for: .milliseconds(Int(timeout * 1000)))
                expire(id)
            }
        }
        return await withCheckedContinuation { c in
            let status = state.withLock { s -> Int32?? in
                if let status = s.status { return .some(status) }
                if s.expired.remove(id) != nil { return .some(nil) }
                s.waiters[id] = c
                return .none
            }
            if let status { c.resume(returning: status) }
        }
    }

    private func expire(_ id: UInt64) {
        let waiter = state.withLock { s -> CheckedContinuation<Int32?, Never>? in
            guard s.status == nil else { return nil }
            if let w = s.waiters.removeValue(forKey: id) { return w }
            s.expired.insert(id)
            return nil
        }
        waiter?.resume(returning: nil)
    }
}
