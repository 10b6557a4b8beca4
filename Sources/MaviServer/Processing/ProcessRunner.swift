import Foundation
import Synchronization

/// Runs a command-line tool to completion without blocking a Swift concurrency thread, collecting
/// its output. The process is killed when the calling task is cancelled or the timeout passes.
enum ProcessRunner {
    struct Output: Sendable {
        var status: Int32
        var stdout: Data
        var stderr: Data
    }

    /// `Process` predates Sendable; every use of it below is either before `run()` or one of the
    /// thread-safe calls (`terminate`, `isRunning`), so sharing it with the handlers is sound.
    private final class RunningProcess: @unchecked Sendable {
        let process = Process()
        let stdout = Mutex(Data())
        let stderr = Mutex(Data())
    }

    static func run(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(120)) async throws -> Output {
        let running = RunningProcess()
        let process = running.process
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        process.standardInput = FileHandle.nullDevice
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        // Drain both pipes as data arrives, so a chatty tool never blocks on a full pipe.
        outPipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            running.stdout.withLock { $0.append(data) }
        }
        errPipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            running.stderr.withLock { $0.append(data) }
        }

        let status: Int32 = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
                process.terminationHandler = { finished in
                    continuation.resume(returning: finished.terminationStatus)
                }
                do {
                    try process.run()
                } catch {
                    process.terminationHandler = nil
                    continuation.resume(throwing: error)
                    return
                }
                let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
                DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
                    if running.process.isRunning { running.process.terminate() }
                }
            }
        } onCancel: {
            if running.process.isRunning { running.process.terminate() }
        }
        outPipe.fileHandleForReading.readabilityHandler = nil
        errPipe.fileHandleForReading.readabilityHandler = nil
        // Whatever arrived between the last callback and the end.
        let restOut = (try? outPipe.fileHandleForReading.readToEnd()) ?? nil
        let restErr = (try? errPipe.fileHandleForReading.readToEnd()) ?? nil
        return Output(
            status: status,
            stdout: running.stdout.withLock { $0 } + (restOut ?? Data()),
            stderr: running.stderr.withLock { $0 } + (restErr ?? Data()))
    }
}
