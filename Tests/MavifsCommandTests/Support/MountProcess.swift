import Foundation
import Glibc
import TestSupport

/// A `mavifs` child process (a foreground mount, a server) started with posix_spawn, its output
/// in files. `stop()` kills it if it is still running, so a test can always clean up.
final class ChildProcess: @unchecked Sendable {
    // @unchecked: `status` is written once by `wait`, which callers do not run concurrently.
    let pid: pid_t
    let stdoutPath: String
    let stderrPath: String
    private var status: Int32?

    init(_ arguments: [String], environment: [String: String], directory: String) throws {
        stdoutPath = directory + "/stdout-\(UUID().uuidString.prefix(8))"
        stderrPath = directory + "/stderr-\(UUID().uuidString.prefix(8))"
        // Exactly the environment given, nothing inherited from the test process.
        pid = try spawnChild(arguments, environment: environment, inherit: false, stdout: stdoutPath, stderr: stderrPath)
    }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// The exit status (128 + signal when a signal ended it), or nil if still running after `timeout`.
    func wait(timeout: Double) async -> Int32? {
        if let status { return status }
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            var raw: Int32 = 0
            let r = waitpid(pid, &raw, WNOHANG)
            if r == pid {
                let code: Int32 = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
                status = code
                return code
            }
            if r < 0 { return nil }
            if timeout > 0 { try? await Task.sleep(for: .milliseconds(20)) }
        } while Date() < deadline
        return nil
    }

    func signal(_ sig: Int32) { if status == nil { kill(pid, sig) } }

    /// Kills the process if it still runs and reaps it.
    func stop() async {
        guard status == nil else { return }
        kill(pid, SIGKILL)
        _ = await wait(timeout: 10)
    }
}

/// Whether `path` is a mount point, read from this process's mount table (never touching `path`).
func mountOptions(of path: String) -> String? {
    guard let text = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else { return nil }
    return text.split(separator: "\n").map { $0.split(separator: " ") }.last { $0.count > 3 && String($0[1]) == path }.map { String($0[3]) }
}

/// Detaches whatever is mounted at `path` (a test's last resort), aborting its FUSE connection.
func forceUnmount(_ path: String) {
    guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return }
    for line in text.split(separator: "\n") {
        let fields = line.split(separator: " ")
        guard fields.count > 4, String(fields[4]) == path else { continue }
        let minor = fields[2].split(separator: ":").last.map(String.init) ?? ""
        if let fd = Optional(open("/sys/fs/fuse/connections/\(minor)/abort", O_WRONLY)), fd >= 0 {
            _ = write(fd, "1", 1)
            close(fd)
        }
    }
    _ = umount2(path, Int32(MNT_DETACH))
}

