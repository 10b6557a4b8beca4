import MaviAPI

/// Lets at most `requests` requests be under way or recently finished within any window of
/// `perSeconds` seconds, counting each request from the moment its answer arrived (the head of
/// it, where the caller gives the permit back then: see ``PacingRelease``).
///
/// It keeps one entry per recent request (a sliding-window log): the time its answer arrived,
/// or "still under way". A new request may start one window after the oldest finished one. A
/// token bucket refilled at `requests/perSeconds` would let a burst plus the refill exceed the
/// limit within one window; and counting from the moment a request was sent would not do
/// either, because the server counts it when it arrives, which may be any time until the answer
/// comes back (a slow connection set-up, a 3 GB upload body). Counting from the answer, the
/// server can never see more than `requests` arrivals within one window.
actor RateLimiter {
    /// The right to send one request; give it back with ``release(_:)`` once the answer arrived
    /// (or the request failed).
    struct Permit: Sendable {
        fileprivate let index: Int
    }

    private let capacity: Int
    private let window: Duration
    private let clock: TimeSource
    /// One entry per recent request: when its answer arrived, or `nil` while it is under way.
    private var entries: [Duration?] = []
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
    private var nextWaiterID: UInt64 = 0

    init(limit: RateLimit, slack: Duration = .zero, clock: TimeSource = .continuous) {
        self.clock = clock
        capacity = max(1, limit.requests)
        window = .seconds(max(0, limit.perSeconds)) + slack
        entries.reserveCapacity(capacity)
    }

    /// Waits until a request may be sent. `onWait` hears how long, when the wait is known.
    func acquire(onWait: (@Sendable (Duration) -> Void)? = nil) async throws -> Permit {
        while true {
            try Task.checkCancellation()
            if entries.count < capacity {
                entries.append(nil)
                return Permit(index: entries.count - 1)
            }
            if let oldest = oldestFinished() {
                let answered = entries[oldest]!
                let slot = max(clock.now, answered + window)
                // Reserved now, so that waiters behind this one count from other entries.
                entries[oldest] = nil
                let permit = Permit(index: oldest)
                let wait = slot - clock.now
                if wait > .zero {
                    onWait?(wait)
                    do {
                        try await clock.sleep(until: slot)
                    } catch {
                        // Nothing was sent: the slot goes back as it was, for the next caller.
                        entries[oldest] = answered
                        wakeWaiter()
                        throw error
                    }
                }
                return permit
            }
            // Every recent request is still under way: wait for one to finish.
            try await waitForRelease()
        }
    }

    /// Records that the permit's request has its answer (or failed) now.
    func release(_ permit: Permit) {
        entries[permit.index] = clock.now
        wakeWaiter()
    }

    private func wakeWaiter() {
        if !waiters.isEmpty {
            waiters.removeFirst().continuation.resume()
        }
    }

    /// How many callers wait for a request under way to finish: what a test waits for.
    var waitingForRelease: Int { waiters.count }

    private func oldestFinished() -> Int? {
        var oldest: Int?
        for (index, entry) in entries.enumerated() {
            guard let entry else { continue }
            if oldest == nil || entry < entries[oldest!]! { oldest = index }
        }
        return oldest
    }

    private func waitForRelease() async throws {
        let id = nextWaiterID
        nextWaiterID += 1
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiters.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    private func cancelWaiter(_ id: UInt64) {
        if let index = waiters.firstIndex(where: { $0.id == id }) {
            waiters.remove(at: index).continuation.resume(throwing: CancellationError())
        }
    }
}
