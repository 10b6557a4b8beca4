import Synchronization

/// Thread-safe counters behind `ServerStats`.
final class StatsRecorder: Sendable {
    private let state = Mutex(ServerStats())

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

    func snapshot() -> ServerStats { state.withLock { $0 } }

    func reset() { state.withLock { $0 = ServerStats() } }
}
