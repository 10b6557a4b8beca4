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
    }

    /// Output goes to temporary files, not pipes: a child started at the same moment by another
    /// thread can inherit a pipe's write end, and reading to end-of-file would wait for it too.
    static func run(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(120)) async throws -> Output {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("mavifs-process-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        defer {
            try? out.close()
            try? err.close()
        }

        let running = RunningProcess()
        let process = running.process
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err

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
        return Output(
            status: status,
            stdout: (try? Data(contentsOf: outURL)) ?? Data(),
            stderr: (try? Data(contentsOf: errURL)) ?? Data())
    }
}
