import AsyncHTTPClient
import NIOCore
import Synchronization

/// The bytes of a file as they arrive, in chunks of arbitrary size.
///
/// A cut connection, a body shorter than its `Content-Length` (or than the length the caller
/// expected) and a stall longer than the idle timeout while the caller waits all end the
/// iteration with a ``MaviClientError`` — never with a silently short file.
///
/// The stream is single-pass and must be iterated from one task at a time. Dropping it without
/// reading to the end cancels the request and closes its connection, so an unwanted body (say,
/// the whole file when a range was ignored) is never downloaded.
public struct ByteStream: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    public typealias Failure = any Error

    /// The body's length from `Content-Length`, when the server sent one.
    public let contentLength: Int64?
    let source: ChunkSource

    init(source: ChunkSource, contentLength: Int64?) {
        self.source = source
        self.contentLength = contentLength
    }

    public func makeAsyncIterator() -> Iterator { Iterator(source: source) }

    public struct Iterator: AsyncIteratorProtocol {
        let source: ChunkSource
        public mutating func next() async throws -> ByteBuffer? { try await source.next() }
    }

    /// The chunks that arrived since the caller last asked (at least one, at most a quarter of
    /// the read-ahead), or `nil` at the end: for a caller that handles the bytes in runs rather
    /// than chunk by chunk. Same errors as iterating; the two may be mixed.
    public func nextBatch() async throws -> CircularBuffer<ByteBuffer>? { try await source.nextBatch() }

    /// Bytes handed to the caller so far.
    public var bytesDelivered: Int64 { source.delivered }

    /// Reads the rest of the stream into one buffer, refusing more than `maxBytes`.
    public func collect(upTo maxBytes: Int) async throws -> ByteBuffer {
        var result = ByteBuffer()
        for try await var chunk in self {
            guard result.readableBytes + chunk.readableBytes <= maxBytes else {
                throw MaviClientError.invalidResponse(endpoint: source.endpoint, reason: "body larger than \(maxBytes) bytes")
            }
            result.writeBuffer(&chunk)
        }
        return result
    }
}

/// Enforces completeness on the chunks a ``BodyReadAhead`` reads, and hands them to the caller
/// one by one.
///
/// `@unchecked Sendable` because its counters and the batch being handed out are mutable: they
/// are only ever touched by one task at a time, the caller iterating serially.
final class ChunkSource: @unchecked Sendable {
    let endpoint: MaviEndpoint
    private let readAhead: BodyReadAhead
    /// Chunks taken from the read-ahead and not handed to the caller yet.
    private var pending = CircularBuffer<ByteBuffer>()
    private let expectedLength: Int64?
    private let redactor: Redactor
    /// Bytes taken from the read-ahead, and bytes handed to the caller (less pending chunks).
    private var received: Int64 = 0
    private(set) var delivered: Int64 = 0
    private var finished = false
    /// Catches a second task iterating at the same time, which would race on the counters.
    private let reading = Atomic<Bool>(false)

    init<Body: AsyncSequence & Sendable>(
        body: Body, endpoint: MaviEndpoint, expectedLength: Int64?, idleTimeout: Duration?, redactor: Redactor,
        readAhead limit: Int = 1 << 20, clock: TimeSource = .continuous
    ) where Body.Element == ByteBuffer {
        readAhead = BodyReadAhead(
            body, limit: limit, batchLimit: max(limit / 4, 1), idleLimit: idleTimeout,
            expired: MaviClientError.timeout(endpoint: endpoint, .idleRead), clock: clock)
        self.endpoint = endpoint
        self.expectedLength = expectedLength
        self.redactor = redactor
    }

    /// Dropping the stream stops the reader, which cancels the request and closes its connection.
    deinit { readAhead.stop() }

    /// Reads the first chunks ahead, so that a failure before any byte reaches the caller happens
    /// while the request can still be retried.
    func prefetch() async throws {
        guard pending.isEmpty, !finished else { return }
        try await takeChecked()
    }

    func next() async throws -> ByteBuffer? {
        precondition(!reading.exchange(true, ordering: .acquiring), "a ByteStream must be iterated by one task at a time")
        defer { reading.store(false, ordering: .releasing) }
        if pending.isEmpty { try await takeChecked() }
        guard let chunk = pending.popFirst() else { return nil }
        delivered += Int64(chunk.readableBytes)
        return chunk
    }

    func nextBatch() async throws -> CircularBuffer<ByteBuffer>? {
        precondition(!reading.exchange(true, ordering: .acquiring), "a ByteStream must be iterated by one task at a time")
        defer { reading.store(false, ordering: .releasing) }
        if pending.isEmpty { try await takeChecked() }
        guard !pending.isEmpty else { return nil }
        var batch = CircularBuffer<ByteBuffer>()
        swap(&batch, &pending)
        for chunk in batch { delivered += Int64(chunk.readableBytes) }
        return batch
    }

    /// Fills `pending` with the next batch; leaves it empty at the end of the body.
    private func takeChecked() async throws {
        guard !finished else { return }
        do {
            guard let batch = try await readAhead.take() else {
                finished = true
                readAhead.stop()
                if let expectedLength, received != expectedLength {
                    throw MaviClientError.streamCut(endpoint: endpoint, received: received, expected: expectedLength, reason: "the body ended early")
                }
                return
            }
            for chunk in batch { received += Int64(chunk.readableBytes) }
            if let expectedLength, received > expectedLength {
                throw MaviClientError.invalidResponse(endpoint: endpoint, reason: "body longer than the \(expectedLength) bytes announced")
            }
            pending = batch
        } catch {
            finished = true
            readAhead.stop()  // cancels the request and closes the connection
            throw mapped(error)
        }
    }

    private func mapped(_ error: any Error) -> MaviClientError {
        let classified = MaviClientError.classify(error, endpoint: endpoint, redactor: redactor)
        switch classified {
        case .transport(_, let reason), .connectionFailed(_, let reason):
            return .streamCut(endpoint: endpoint, received: received, expected: expectedLength, reason: reason)
        default:
            return classified
        }
    }
}
