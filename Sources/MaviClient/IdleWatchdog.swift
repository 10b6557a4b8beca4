import NIOCore
import Synchronization

/// Fails a read of a response body that waits longer than an idle timeout.
///
/// One watchdog per body looks at the pending read a few times per timeout, rather than a timer
/// per chunk: racing each chunk against a sleep costs a task group per chunk, and each cancelled
/// sleep stays queued until its deadline (about 700 bytes each), which over a fast download of
/// several gigabytes in 64 KiB chunks held tens of megabytes for the whole timeout.
final class IdleWatchdog: Sendable {
    private struct State {
        var pending: Task<ByteBuffer?, any Error>?
        var deadline: ContinuousClock.Instant?
        var fired = false
        var ticker: Task<Void, Never>?
    }

    let limit: Duration
    private let state = Mutex(State())

    init(limit: Duration) {
        self.limit = limit
    }

    /// Runs `read` in a task of its own, cancelled when it has not finished within the limit;
    /// `expired` is thrown then. Time between reads does not count.
    func run(
        expired: MaviClientError, _ read: @escaping @Sendable () async throws -> ByteBuffer?
    ) async throws -> ByteBuffer? {
        let task = Task { try await read() }
        let deadline = ContinuousClock.now + limit
        let needsTicker = state.withLock { state -> Bool in
            state.pending = task
            state.deadline = deadline
            state.fired = false
            return state.ticker == nil
        }
        if needsTicker { startTicker() }
        do {
            let chunk = try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
            state.withLock { $0.pending = nil; $0.deadline = nil }
            return chunk
        } catch {
            let fired = state.withLock { state -> Bool in
                state.pending = nil
                state.deadline = nil
                return state.fired
            }
            throw fired ? expired : error
        }
    }

    /// Stops looking (the body ended or was dropped).
    func stop() {
        let ticker = state.withLock { state -> Task<Void, Never>? in
            defer { state.ticker = nil }
            return state.ticker
        }
        ticker?.cancel()
    }

    deinit { stop() }

    /// Looks four times per limit, and at least once a second, so a stall is noticed at most a
    /// quarter of the limit (or a second) late.
    private func startTicker() {
        let tick = min(limit / 4, .seconds(1))
        let ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: tick)
                guard let self else { return }
                self.expireOverdueRead()
            }
        }
        let extra = state.withLock { state -> Task<Void, Never>? in
            if state.ticker == nil {
                state.ticker = ticker
                return nil
            }
            return ticker
        }
        extra?.cancel()
    }

    private func expireOverdueRead() {
        let overdue = state.withLock { state -> Task<ByteBuffer?, any Error>? in
            guard let deadline = state.deadline, let pending = state.pending, ContinuousClock.now >= deadline else { return nil }
            state.fired = true
            return pending
        }
        overdue?.cancel()
    }
}
