import Foundation
import MaviClient
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One line of upload progress on standard error, redrawn in place when it is a terminal (at
/// most ten times a second) and silent otherwise, so that logs and pipes get no noise.
final class ProgressDisplay: Sendable {
    let name: String
    let isTerminal = isatty(STDERR_FILENO) == 1
    private let state = Mutex(State())

    private struct State {
        var lastDraw: ContinuousClock.Instant?
        var sendingSince: ContinuousClock.Instant?
    }

    init(name: String) {
        self.name = name
    }

    func show(_ progress: UploadProgress) {
        guard isTerminal else { return }
        let now = ContinuousClock.now
        let text: String? = state.withLock { state in
            var force = true
            var line: String
            switch progress {
            case .waitingForRateLimit(let wait):
                line = "waiting \(Int(wait.components.seconds.advanced(by: 1)))s for the upload rate limit"
            case .sending(let sent, let total):
                if state.sendingSince == nil || sent == 0 { state.sendingSince = now }
                let elapsed = (now - state.sendingSince!).components
                let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
                let rate = seconds > 0.5 ? " \(Self.bytes(Int64(Double(sent) / seconds)))/s" : ""
                let percent = total > 0 ? Int(sent * 100 / total) : 100
                line = "\(percent)% \(Self.bytes(sent)) of \(Self.bytes(total))\(rate)"
                force = sent == total
            case .awaitingReply:
                line = "sent, waiting for the server"
            case .retrying(let attempt, let delay, let reason):
                line = "attempt \(attempt) failed (\(reason)); retrying in \(Int(delay.components.seconds))s"
            }
            if !force, let last = state.lastDraw, now - last < .milliseconds(100) { return nil }
            state.lastDraw = now
            return line
        }
        if let text { draw("\(name): \(text)", newline: false) }
    }

    func finish(_ text: String) {
        guard isTerminal else { return }
        draw("\(name): \(text)", newline: true)
    }

    private func draw(_ line: String, newline: Bool) {
        // Carriage return and "erase line" redraw in place.
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)\(newline ? "\n" : "")".utf8))
    }

    static func bytes(_ count: Int64) -> String {
        ByteCountFormatter.string(fromByteCount: count, countStyle: .file)
    }
}
