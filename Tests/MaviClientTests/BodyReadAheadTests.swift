import NIOCore
import Synchronization
import Testing
import TestSupport

@testable import MaviClient

@Suite("Reading a body ahead", .timeLimit(.minutes(1)))
struct BodyReadAheadTests {
    private struct Expired: Error {}

    /// `count` chunks of `size` bytes (chunk `i` filled with `i % 251`), as fast as asked; counts
    /// the chunks it handed out.
    private struct CountingBody: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let count: Int
        let size: Int
        let produced = Counter()

        struct AsyncIterator: AsyncIteratorProtocol {
            let body: CountingBody
            mutating func next() async throws -> ByteBuffer? {
                let index = body.produced.next()
                guard index < body.count else { return nil }
                return ByteBuffer(repeating: UInt8(index % 251), count: body.size)
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(body: self) }
    }

    private final class Counter: Sendable {
        private let count = Atomic<Int>(0)
        /// The count before this call.
        func next() -> Int { count.add(1, ordering: .relaxed).oldValue }
        var value: Int { count.load(ordering: .relaxed) }
    }

    private final class Flag: Sendable {
        private let flag = Atomic<Bool>(false)
        func set() { flag.store(true, ordering: .relaxed) }
        var isSet: Bool { flag.load(ordering: .relaxed) }
    }

    private func takeAll(_ reader: BodyReadAhead) async throws -> (bytes: [UInt8], batches: Int) {
        var bytes: [UInt8] = []
        var batches = 0
        while let batch = try await reader.take() {
            batches += 1
            for chunk in batch { bytes += chunk.readableBytesView }
        }
        return (bytes, batches)
    }

    @Test("every byte in order, several chunks per batch, and never more than the limit read ahead")
    func boundedAndComplete() async throws {
        let body = CountingBody(count: 200, size: 1_000)
        let reader = BodyReadAhead(body, limit: 16_000, batchLimit: 8_000, idleLimit: .seconds(10), expired: Expired())
        // Nobody takes: the reader fills the buffer and waits.
        try await waitUntil("the reader waits for room") { reader.readerWaitsForRoom }
        let ahead = body.produced.value
        #expect(ahead >= 16 && ahead <= 17, "read \(ahead) chunks ahead")

        let (bytes, batches) = try await takeAll(reader)
        #expect(bytes.count == 200_000)
        let expected = (0..<200).flatMap { index in [UInt8](repeating: UInt8(index % 251), count: 1_000) }
        #expect(bytes == expected)
        #expect(batches <= 100, "\(batches) batches for 200 chunks")
        #expect(try await reader.take() == nil)
    }

    @Test("a batch held by the consumer counts against the limit until it asks again")
    func handedBatchCounts() async throws {
        let body = CountingBody(count: 100, size: 1_000)
        let reader = BodyReadAhead(body, limit: 10_000, batchLimit: 10_000, idleLimit: nil, expired: Expired())
        try await waitUntil("the reader waits for room") { reader.readerWaitsForRoom }
        let first = try #require(try await reader.take())
        #expect(first.count == 10)
        // The ten chunks are out but still held: the reader may not refill behind them.
        #expect(reader.readerWaitsForRoom)
        #expect(body.produced.value == 10)
        _ = try await takeAll(reader)
    }

    @Test("a wait past the idle limit fails with the given error at that moment and cancels the body")
    func stall() async throws {
        let (body, source) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        let terminated = Flag()
        source.onTermination = { _ in terminated.set() }
        source.yield(ByteBuffer(string: "first"))
        let clock = ManualClock()
        let reader = BodyReadAhead(body, idleLimit: .milliseconds(200), expired: Expired(), clock: TimeSource(clock))
        let first = try #require(try await reader.take())
        #expect(first.map { String(buffer: $0) } == ["first"])
        let waiting = Task { try await reader.take() }
        // The watchdog sleeps until the wait's deadline, and not a moment less.
        try await waitUntil("the consumer waits") { reader.consumerWaits }
        try await clock.waitForSleepers()
        #expect(clock.sleepers == [.milliseconds(200)])
        clock.advance(by: .milliseconds(199))
        #expect(clock.sleepers == [.milliseconds(1)], "one millisecond early, the wait is still on")
        clock.advance(by: .milliseconds(1))
        await #expect(throws: Expired.self) { try await waiting.value }
        try await waitUntil("the stalled body is cancelled") { terminated.isSet }
        // Once failed, it stays failed.
        await #expect(throws: Expired.self) { try await reader.take() }
    }

    @Test("time between takes does not count as idle, even while the body is slow meanwhile")
    func slowConsumer() async throws {
        let (body, source) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        let clock = ManualClock()
        let reader = BodyReadAhead(body, idleLimit: .milliseconds(200), expired: Expired(), clock: TimeSource(clock))
        // The consumer waits for the first bytes, which come just before its deadline.
        let first = Task { try await reader.take() }
        try await clock.waitForSleepers()
        clock.advance(by: .milliseconds(150))
        source.yield(ByteBuffer(string: "a"))
        #expect(try await first.value?.map { String(buffer: $0) } == ["a"])
        // The body sends nothing for well over the limit while the consumer is busy: the watchdog
        // wakes at the old deadline, finds nobody waiting, and does not fail anything.
        clock.advance(by: .milliseconds(700))
        source.yield(ByteBuffer(string: "b"))
        source.finish()
        // ...and the next takes get the rest, however long the reader takes to move it over:
        // the clock does not move meanwhile.
        let rest = try await takeAll(reader)
        #expect(rest.bytes == Array("b".utf8))
    }

    @Test("a consumer that waits again gets a new idle limit from then on")
    func deadlinePerWait() async throws {
        let (body, source) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        let clock = ManualClock()
        let reader = BodyReadAhead(body, idleLimit: .milliseconds(200), expired: Expired(), clock: TimeSource(clock))
        let first = Task { try await reader.take() }
        try await clock.waitForSleepers()
        clock.advance(by: .milliseconds(100))
        source.yield(ByteBuffer(string: "a"))
        _ = try await first.value
        // A second wait starts 100 ms into the first one's limit; it may last its own 200 ms.
        let second = Task { try await reader.take() }
        try await waitUntil("the second wait has begun") { reader.consumerWaits }
        clock.advance(by: .milliseconds(100))
        // The first deadline has passed: the watchdog finds the wait not overdue and sleeps on to
        // the second deadline, 100 ms away.
        try await waitUntil("the watchdog sleeps until the second deadline") { clock.sleepers == [.milliseconds(100)] }
        clock.advance(by: .milliseconds(99))
        source.yield(ByteBuffer(string: "b"))
        #expect(try await second.value?.map { String(buffer: $0) } == ["b"])
        source.finish()
        #expect(try await reader.take() == nil)
    }

    @Test("a failure reaches the consumer after the bytes read before it")
    func failureAfterBytes() async throws {
        struct Cut: Error {}
        let (body, source) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        source.yield(ByteBuffer(string: "one"))
        source.yield(ByteBuffer(string: "two"))
        source.finish(throwing: Cut())
        let reader = BodyReadAhead(body, idleLimit: .seconds(10), expired: Expired())
        var chunks: [String] = []
        await #expect(throws: Cut.self) {
            while let batch = try await reader.take() { chunks += batch.map { String(buffer: $0) } }
        }
        #expect(chunks == ["one", "two"])
    }

    /// Sends `first`, then nothing until cancelled. Its iterator going away (which, for an HTTP
    /// body, cancels the request) sets `released`.
    private struct EndlessBody: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let first: [String]
        let released = Flag()

        final class Token {
            let flag: Flag
            init(_ flag: Flag) { self.flag = flag }
            deinit { flag.set() }
        }

        struct AsyncIterator: AsyncIteratorProtocol {
            var pending: [String]
            let token: Token
            mutating func next() async throws -> ByteBuffer? {
                if !pending.isEmpty { return ByteBuffer(string: pending.removeFirst()) }
                try await Task.sleep(for: .seconds(3600))
                return nil
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(pending: first, token: Token(released)) }
    }

    @Test("stopping releases a body that is still sending, also while the reader waits for room")
    func stopReleases() async throws {
        // With the large limit the reader waits on the body, with the small one for room.
        for limit in [1 << 20, 1] {
            let body = EndlessBody(first: ["x", "y"])
            let reader = BodyReadAhead(body, limit: limit, idleLimit: nil, expired: Expired())
            if limit == 1 {
                try await waitUntil("the reader waits for room") { reader.readerWaitsForRoom }
            } else {
                try await waitUntil("both chunks are buffered") { reader.bufferedBytes == 2 }
            }
            #expect(!body.released.isSet)
            reader.stop()
            try await waitUntil("the body is released, limit \(limit)") { body.released.isSet }
            // What was buffered still comes out, then the end.
            await #expect(throws: CancellationError.self) { while try await reader.take() != nil {} }
        }
    }

    @Test("cancelling the consumer's wait ends the body")
    func consumerCancelled() async throws {
        let (body, source) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        let terminated = Flag()
        source.onTermination = { _ in terminated.set() }
        let reader = BodyReadAhead(body, idleLimit: .seconds(30), expired: Expired())
        let consumer = Task { try await reader.take() }
        consumer.cancel()
        await #expect(throws: CancellationError.self) { try await consumer.value }
        try await waitUntil("the body is cancelled") { terminated.isSet }
    }
}
