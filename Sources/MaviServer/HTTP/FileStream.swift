import Hummingbird
import NIOCore
import NIOFileSystem
import Synchronization

/// Set once the server starts shutting down, so stalled streams let go of their connection
/// instead of holding up a graceful shutdown.
final class ShutdownFlag: Sendable {
    private let raised = Atomic<Bool>(false)
    var isRaised: Bool { raised.load(ordering: .acquiring) }
    func raise() { raised.store(true, ordering: .releasing) }
}

/// Thrown inside a response body to make the server drop the connection mid-stream.
struct StreamInterrupted: Error {}

/// A response body that streams part of a file from disk in fixed-size chunks (memory stays flat
/// whatever the file size; writes wait for the client, so a slow reader slows the reads), applying
/// an injected cut or stall and counting the bytes sent.
struct FileStream: Sendable {
    static let chunkLength: ByteCount = .kibibytes(256)

    var path: String
    var range: Range<Int64>
    var fault: StreamFault?
    /// Pace of the body, when slowed down by a fault.
    var bytesPerSecond: Int64?
    var channel: any Channel
    var stats: StatsRecorder
    var shutdown: ShutdownFlag

    /// `announceLength: false` leaves `Content-Length` out, so HTTP/1.1 sends the body chunked.
    func body(announceLength: Bool) -> ResponseBody {
        ResponseBody(contentLength: announceLength ? Int(range.count) : nil) { writer in
            stats.streamOpened()
            defer { stats.streamClosed() }
            try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(path)) { handle in
                var sent: Int64 = 0
                let clock = ContinuousClock()
                let started = clock.now
                for try await var chunk in handle.readChunks(in: range, chunkLength: Self.chunkLength) {
                    if let fault, sent + Int64(chunk.readableBytes) >= fault.afterBytes {
                        let allowed = Int(fault.afterBytes - sent)
                        if allowed > 0, let head = chunk.readSlice(length: allowed) {
                            try await writer.write(head)
                            stats.addStreamedBytes(allowed)
                        }
                        if case .stall(let duration) = fault.kind {
                            await stall(for: duration)
                        }
                        // Half-close first: NIO sends what is queued before shutting the write side,
                        // so the client gets exactly the bytes promised; a plain close drops them.
                        try? await channel.close(mode: .output)
                        throw StreamInterrupted()
                    }
                    if let rate = bytesPerSecond, rate > 0 {
                        // A slow network: small pieces, each sent when the pace allows (about every
                        // 50 ms), so the client sees a steady trickle rather than bursts, and a
                        // client that went away is noticed within one piece.
                        let pieceLength = Int(min(max(rate / 20, 1), 16 * 1024))
                        while chunk.readableBytes > 0, let piece = chunk.readSlice(length: min(pieceLength, chunk.readableBytes)) {
                            let due = started + .seconds(Double(sent) / Double(rate))
                            if due > clock.now { try await Task.sleep(until: due, clock: clock) }
                            guard channel.isActive else { throw StreamInterrupted() }
                            try await writer.write(piece)
                            sent += Int64(piece.readableBytes)
                            stats.addStreamedBytes(piece.readableBytes)
                        }
                        continue
                    }
                    sent += Int64(chunk.readableBytes)
                    stats.addStreamedBytes(chunk.readableBytes)
                    try await writer.write(chunk)
                }
            }
            try await writer.finish(nil)
        }
    }

    /// Holds the connection open without sending, until the duration passes, the client leaves,
    /// the request is cancelled or the server shuts down. Polling keeps this free of any
    /// unstructured task that could outlive the request.
    private func stall(for duration: Duration?) async {
        let clock = ContinuousClock()
        let deadline = duration.map { clock.now + $0 }
        while channel.isActive, !shutdown.isRaised, !Task.isCancelled {
            if let deadline, clock.now >= deadline { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
