import Synchronization

/// Thread-safe counters behind `ServerStats`.
final class StatsRecorder: Sendable {
    private let state = Mutex(ServerStats())
    private let openStreams = Atomic<Int>(0)

    func countRequest(_ endpoint: Endpoint) {
        state.withLock { $0.requests[endpoint.rawValue, default: 0] += 1 }
    }

    func countDownload(_ videoNo: String) {
        state.withLock { $0.downloads[videoNo, default: 0] += 1 }
    }

    func countFileRequest(_ videoNo: String) {
        state.withLock { $0.fileRequests[videoNo, default: 0] += 1 }
    }

    func countBlobDownload(_ videoNo: String) {
        state.withLock { $0.blobDownloads[videoNo, default: 0] += 1 }
    }

    func addStreamedBytes(_ count: Int) {
        state.withLock { $0.bytesStreamed += Int64(count) }
    }

    /// A streamed response started, and its end.
    func streamOpened() { openStreams.add(1, ordering: .relaxed) }
    func streamClosed() { openStreams.subtract(1, ordering: .relaxed) }

    func snapshot() -> ServerStats {
        var stats = state.withLock { $0 }
        stats.streamsOpen = openStreams.load(ordering: .relaxed)
        return stats
    }

    func reset() { state.withLock { $0 = ServerStats() } }
}
