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

/// Holds the HTTP body iterator and enforces completeness and the idle timeout.
///
/// `@unchecked Sendable` because the iterator is not `Sendable`: it is only ever touched by one
/// task at a time — the caller iterates serially, and while a read runs in a child task (to race
/// it against the idle timer) the caller is suspended waiting for that child.
final class ChunkSource: @unchecked Sendable {
    let endpoint: MaviEndpoint
    private var iterator: HTTPClientResponse.Body.AsyncIterator?
    private var prefetched: ByteBuffer?
    private let expectedLength: Int64?
    private let watchdog: IdleWatchdog?
    private let redactor: Redactor
    /// Bytes taken from the connection, and bytes handed to the caller (less a prefetched chunk).
    private var received: Int64 = 0
    private(set) var delivered: Int64 = 0
    private var finished = false
    /// Catches a second task iterating at the same time, which would race on the iterator.
    private let reading = Atomic<Bool>(false)

    init(body: HTTPClientResponse.Body, endpoint: MaviEndpoint, expectedLength: Int64?, idleTimeout: Duration?, redactor: Redactor) {
        iterator = body.makeAsyncIterator()
        self.endpoint = endpoint
        self.expectedLength = expectedLength
        watchdog = idleTimeout.map(IdleWatchdog.init(limit:))
        self.redactor = redactor
    }

    /// Reads the first chunk ahead, so that a failure before any byte reaches the caller happens
    /// while the request can still be retried.
    func prefetch() async throws {
        guard prefetched == nil, !finished else { return }
        prefetched = try await readChecked()
    }

    func next() async throws -> ByteBuffer? {
        precondition(!reading.exchange(true, ordering: .acquiring), "a ByteStream must be iterated by one task at a time")
        defer { reading.store(false, ordering: .releasing) }
        let chunk: ByteBuffer?
        if let ahead = prefetched {
            prefetched = nil
            chunk = ahead
        } else {
            chunk = try await readChecked()
        }
        delivered += Int64(chunk?.readableBytes ?? 0)
        return chunk
    }

    private func readChecked() async throws -> ByteBuffer? {
        guard !finished else { return nil }
        do {
            guard let chunk = try await readWithinIdleTimeout() else {
                finished = true
                iterator = nil
                watchdog?.stop()
                if let expectedLength, received != expectedLength {
                    throw MaviClientError.streamCut(endpoint: endpoint, received: received, expected: expectedLength, reason: "the body ended early")
                }
                return nil
            }
            received += Int64(chunk.readableBytes)
            if let expectedLength, received > expectedLength {
                throw MaviClientError.invalidResponse(endpoint: endpoint, reason: "body longer than the \(expectedLength) bytes announced")
            }
            return chunk
        } catch {
            finished = true
            iterator = nil  // drops the body, which cancels the request and closes the connection
            watchdog?.stop()
            throw mapped(error)
        }
    }

    private func readWithinIdleTimeout() async throws -> ByteBuffer? {
        guard let watchdog else { return try await iterator?.next() }
        return try await watchdog.run(expired: .timeout(endpoint: endpoint, .idleRead)) { [self] in
            try await self.iterator?.next()
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
