import Foundation

/// What a finished command printed and returned.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var stdoutBytes: [UInt8]

    public var succeeded: Bool { status == 0 }
}

/// Runs a command with a time limit (killing it when the limit passes), without blocking the
/// Swift concurrency pool.
public func run(_ arguments: [String], timeout: Double = 60, environment: [String: String]? = nil) async throws -> CommandResult {
    try await blocking("`\(arguments.joined(separator: " "))`", timeout: timeout + 10) {
        try runBlocking(arguments, timeout: timeout, environment: environment)
    }
}

/// The synchronous form of `run`, for code already off the pool.
///
/// Spawns and reaps the child itself (posix_spawn and waitpid) rather than through Foundation's
/// `Process`, whose exit notification is delivered on Dispatch's global threads and so waits
/// whenever other work keeps them busy. Output goes to temporary files, not pipes: children started
/// at the same moment by other threads can inherit a pipe's write end, and reading to end-of-file
/// would then wait for them too.
public func runBlocking(_ arguments: [String], timeout: Double = 30, environment: [String: String]? = nil) throws -> CommandResult {
    let dir = try TemporaryDirectory(prefix: "mavifs-run")
    defer { dir.remove() }
    let outPath = dir.appending("stdout"), errPath = dir.appending("stderr")

    let pid = try spawnChild(arguments, environment: environment, stdout: outPath, stderr: errPath)

    var status: Int32 = 0
    var exited = false
    let deadline = Date().addingTimeInterval(timeout)
    while !exited {
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid { exited = true; break }
        if r < 0 && errno != EINTR { break }
        if Date() >= deadline {
            kill(pid, SIGKILL)
            _ = waitpid(pid, &status, 0)
            status = -9 << 8
            break
        }
        usleep(2_000)
    }
    let stdout = (try? Data(contentsOf: URL(fileURLWithPath: outPath))) ?? Data()
    let stderr = (try? Data(contentsOf: URL(fileURLWithPath: errPath))) ?? Data()
    // Exit code when the child exited normally; 128 + signal when a signal ended it.
    let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return CommandResult(
        status: exited ? code : -9,
        stdout: String(decoding: stdout, as: UTF8.self),
        stderr: String(decoding: stderr, as: UTF8.self),
        stdoutBytes: Array(stdout))
}

/// Starts `arguments` (the program found on PATH unless given as a path) with stdin from
/// /dev/null and its output in files: stdout in `stdout`, stderr in `stderr` or, when that is nil,
/// in the same file. `environment` is added to this process's, or with `inherit: false` is the
/// child's whole environment. The caller reaps the child.
public func spawnChild(
    _ arguments: [String], environment: [String: String]?, inherit: Bool = true, stdout: String, stderr: String? = nil, append: Bool = false
) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    let mode = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC)
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdout, mode, 0o600)
    if let stderr {
        posix_spawn_file_actions_addopen(&actions, 2, stderr, mode, 0o600)
    } else {
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
    }
    let inherited = inherit ? ProcessInfo.processInfo.environment : [:]
    let env = inherited.merging(environment ?? [:]) { $1 }.map { "\($0.key)=\($0.value)" }
    let argv = arguments.map { strdup($0) } + [nil]
    let envp = env.map { strdup($0) } + [nil]
    defer {
        argv.forEach { free($0) }
        envp.forEach { free($0) }
    }
    var pid: pid_t = 0
    let rc = posix_spawnp(&pid, arguments[0], &actions, nil, argv, envp)
    guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
    return pid
}
