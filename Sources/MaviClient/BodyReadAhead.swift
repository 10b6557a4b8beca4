import NIOCore
import Synchronization

/// Reads a response body ahead of its consumer, in one task for the whole body, into a small
/// bounded buffer; the consumer takes whatever is buffered at once.
///
/// Handing chunks over one at a time through a task of their own (to be able to cancel a stalled
/// read) woke a thread for every chunk of 16 to 64 KiB; here the consumer waits only when the
/// buffer is empty, and the reader only when it is full.
///
/// - Memory: the reader reads only while the bytes buffered plus the batch last handed over (the
///   consumer holds it until it asks again) are under `limit`, so a body holds at most `limit`
///   plus one chunk.
/// - Idle timeout: a consumer that waits on an empty buffer for longer than `idleLimit` (on
///   `clock`) gets `expired`, and the reader is cancelled, which cancels the request and closes
///   its connection. Time the consumer spends between takes does not count, even while the
///   reader waits on the network then.
/// - End: the body's end or failure reaches the consumer after every byte read before it.
/// - ``stop()`` (the consumer dropped the body) cancels the reader. The owner must call it: the
///   reader task holds this object until the body ends, so dropping it alone stops nothing
///   (`ChunkSource` calls it from its `deinit`).
final class BodyReadAhead: Sendable {
    private struct State {
        var buffered = CircularBuffer<ByteBuffer>()
        var bufferedBytes = 0
        /// The batch last handed to the consumer, still counted until it asks again.
        var handedBytes = 0
        /// How the body ended, once it has; the consumer sees it after the buffered chunks.
        var end: Result<Void, any Error>?
        var consumer: CheckedContinuation<Void, Never>?
        /// When the consumer's current wait expires, on the clock; `nil` while it does not wait.
        var deadline: Duration?
        var producer: CheckedContinuation<Void, Never>?
        var stopped = false
        var reader: Task<Void, Never>?
        var watchdog: Task<Void, Never>?
        /// The watchdog's continuation while it waits for the consumer to wait.
        var watchdogIdle: CheckedContinuation<Duration?, Never>?

        /// The reader's continuation when it waits and there is room again.
        mutating func takeProducerIfRoom(limit: Int) -> CheckedContinuation<Void, Never>? {
            guard producer != nil, bufferedBytes + handedBytes < limit else { return nil }
            defer { producer = nil }
            return producer
        }

        mutating func finish(_ result: Result<Void, any Error>) -> Wakeups {
            if end == nil { end = result }
            deadline = nil
            var wakeups = Wakeups(consumer: consumer, producer: producer, watchdog: watchdog, watchdogIdle: watchdogIdle)
            consumer = nil
            producer = nil
            watchdog = nil
            watchdogIdle = nil
            if case .failure = result {
                stopped = true
                wakeups.reader = reader
                reader = nil
            }
            return wakeups
        }
    }

    let limit: Int
    let batchLimit: Int
    let idleLimit: Duration?
    private let expired: any Error
    private let clock: TimeSource
    private let state = Mutex(State())

    /// Starts reading `body` at once.
    init<Body: AsyncSequence & Sendable>(
        _ body: Body, limit: Int = 1 << 20, batchLimit: Int = 256 << 10, idleLimit: Duration?, expired: any Error,
        clock: TimeSource = .continuous
    ) where Body.Element == ByteBuffer {
        self.limit = max(limit, 1)
        self.batchLimit = max(batchLimit, 1)
        self.idleLimit = idleLimit
        self.expired = expired
        self.clock = clock
        let reader = Task { [self] in await self.read(body) }
        state.withLock { $0.reader = reader }
    }

    // MARK: - The consumer

    /// The chunks buffered (at least one, at most about `batchLimit` bytes), or `nil` at the end
    /// of the body. Waits while the buffer is empty. Called from one task at a time.
    func take() async throws -> CircularBuffer<ByteBuffer>? {
        while true {
            let (outcome, producer) = state.withLock { state -> (Result<CircularBuffer<ByteBuffer>, any Error>?, CheckedContinuation<Void, Never>?) in
                state.handedBytes = 0
                if !state.buffered.isEmpty {
                    var batch = CircularBuffer<ByteBuffer>(initialCapacity: min(state.buffered.count, 16))
                    var bytes = 0
                    while let chunk = state.buffered.first, batch.isEmpty || bytes + chunk.readableBytes <= batchLimit {
                        bytes += chunk.readableBytes
                        batch.append(state.buffered.removeFirst())
                    }
                    state.bufferedBytes -= bytes
                    state.handedBytes = bytes
                    return (.success(batch), state.takeProducerIfRoom(limit: limit))
                }
                let producer = state.takeProducerIfRoom(limit: limit)
                switch state.end {
                case .success?: return (.success(CircularBuffer()), producer)
                case .failure(let error)?: return (.failure(error), producer)
                case nil: return (nil, producer)
                }
            }
            producer?.resume()
            if let outcome {
                let batch = try outcome.get()
                return batch.isEmpty ? nil : batch
            }
            try await waitForChunks()
        }
    }

    private func waitForChunks() async throws {
        let needsWatchdog = state.withLock { $0.watchdog == nil && $0.end == nil && idleLimit != nil }
        if needsWatchdog { startWatchdog() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let (ready, watchdog) = state.withLock { state -> (Bool, (CheckedContinuation<Duration?, Never>, Duration)?) in
                    guard state.buffered.isEmpty, state.end == nil, !Task.isCancelled else { return (true, nil) }
                    state.consumer = continuation
                    guard let idleLimit else { return (false, nil) }
                    let deadline = clock.now + idleLimit
                    state.deadline = deadline
                    defer { state.watchdogIdle = nil }
                    return (false, state.watchdogIdle.map { ($0, deadline) })
                }
                if ready { continuation.resume() }
                if let (idle, deadline) = watchdog { idle.resume(returning: deadline) }
            }
        } onCancel: {
            finish(.failure(CancellationError()))
        }
        if Task.isCancelled {
            finish(.failure(CancellationError()))
        }
    }

    /// Stops reading (the consumer dropped the body): the reader is cancelled, which cancels the
    /// request.
    func stop() {
        finish(.failure(CancellationError()))
    }

    /// Whether the reader waits for room in the buffer, whether the consumer waits for bytes,
    /// and how many bytes wait in the buffer: what a test waits for instead of sleeping.
    var readerWaitsForRoom: Bool { state.withLock { $0.producer != nil } }
    var consumerWaits: Bool { state.withLock { $0.consumer != nil } }
    var bufferedBytes: Int { state.withLock { $0.bufferedBytes } }

    // MARK: - The reader

    private func read<Body: AsyncSequence>(_ body: Body) async where Body.Element == ByteBuffer {
        var iterator = body.makeAsyncIterator()
        do {
            while await waitForRoom() {
                guard let chunk = try await iterator.next() else {
                    finish(.success(()))
                    return
                }
                guard chunk.readableBytes > 0 else { continue }
                deliver(chunk)
            }
        } catch {
            finish(.failure(error))
        }
    }

    /// Waits until the buffer has room; `false` when the reader should stop.
    private func waitForRoom() async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                guard !state.stopped, state.bufferedBytes + state.handedBytes >= limit else { return true }
                state.producer = continuation
                return false
            }
            if ready { continuation.resume() }
        }
        return state.withLock { !$0.stopped }
    }

    private func deliver(_ chunk: ByteBuffer) {
        let consumer = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.stopped else { return nil }
            state.buffered.append(chunk)
            state.bufferedBytes += chunk.readableBytes
            state.deadline = nil
            defer { state.consumer = nil }
            return state.consumer
        }
        consumer?.resume()
    }

    /// Ends the body with `result` unless it has ended already; a failure also cancels the
    /// reader. Wakes whoever waits.
    private func finish(_ result: Result<Void, any Error>) {
        state.withLock { $0.finish(result) }.run()
    }

    // MARK: - The idle timeout

    /// One task per body sleeps until the deadline of the consumer's current wait, and fails the
    /// wait if it is still waiting then: one sleep per wait that is still on at its deadline,
    /// rather than a timer per take (a cancelled sleep stays queued until its deadline) or a
    /// periodic tick (which notices a stall only at its next tick).
    private func startWatchdog() {
        let watchdog = Task { [weak self] in
            while let deadline = await self?.nextDeadline() {
                guard let self else { return }
                do { try await self.clock.sleep(until: deadline) } catch { return }
                if self.expireOverdueWait() { return }
            }
        }
        let extra = state.withLock { state -> Task<Void, Never>? in
            guard state.watchdog == nil, state.end == nil else { return watchdog }
            state.watchdog = watchdog
            return nil
        }
        extra?.cancel()
    }

    /// The deadline of the consumer's wait, once it waits; `nil` once the body has ended.
    private func nextDeadline() async -> Duration? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Duration?, Never>) in
            let answer = state.withLock { state -> Duration?? in
                if state.end != nil || Task.isCancelled { return .some(nil) }
                if let deadline = state.deadline { return .some(deadline) }
                state.watchdogIdle = continuation
                return .none
            }
            if let answer { continuation.resume(returning: answer) }
        }
    }

    /// Fails the consumer's wait when it is overdue; `true` when the body has ended (the
    /// watchdog is done).
    private func expireOverdueWait() -> Bool {
        let (wakeups, done) = state.withLock { state -> (Wakeups?, Bool) in
            guard let deadline = state.deadline, state.consumer != nil else { return (nil, state.end != nil) }
            guard clock.now >= deadline else { return (nil, false) }
            return (state.finish(.failure(expired)), true)
        }
        wakeups?.run()
        return done
    }
}

/// Whom to wake and what to cancel, once the state's lock is released.
private struct Wakeups {
    var consumer: CheckedContinuation<Void, Never>?
    var producer: CheckedContinuation<Void, Never>?
    var reader: Task<Void, Never>?
    var watchdog: Task<Void, Never>?
    var watchdogIdle: CheckedContinuation<Duration?, Never>?

    func run() {
        consumer?.resume()
        producer?.resume()
        watchdogIdle?.resume(returning: nil)
        reader?.cancel()
        watchdog?.cancel()
    }
}
