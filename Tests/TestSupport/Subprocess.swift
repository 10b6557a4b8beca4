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
public func run(_ arguments: [String], timeout: Double = 30, environment: [String: String]? = nil) async throws -> CommandResult {
    try await blocking("`\(arguments.joined(separator: " "))`", timeout: timeout + 10) {
        try runBlocking(arguments, timeout: timeout, environment: environment)
    }
}

/// The synchronous form of `run`, for code already off the pool.
///
/// Output goes to temporary files, not pipes: children started at the same moment by other threads
/// can inherit a pipe's write end, and reading to end-of-file would then wait for them too.
public func runBlocking(_ arguments: [String], timeout: Double = 30, environment: [String: String]? = nil) throws -> CommandResult {
    let dir = try TemporaryDirectory(prefix: "mavifs-run")
    defer { dir.remove() }
    let outPath = dir.appending("stdout"), errPath = dir.appending("stderr")
    _ = FileManager.default.createFile(atPath: outPath, contents: nil)
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    defer {
        try? out.close()
        try? err.close()
    }

    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = arguments
    if let environment { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    p.standardOutput = out
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    let exited = OneShot<Int32>()
    p.terminationHandler = { exited.fulfil($0.terminationStatus) }
    try p.run()

    let deadline = Date().addingTimeInterval(timeout)
    while exited.current == nil && Date() < deadline { usleep(2_000) }
    if exited.current == nil {
        kill(p.processIdentifier, SIGKILL)
        let grace = Date().addingTimeInterval(5)
        while exited.current == nil && Date() < grace { usleep(2_000) }
    }
    let stdout = (try? Data(contentsOf: URL(fileURLWithPath: outPath))) ?? Data()
    let stderr = (try? Data(contentsOf: URL(fileURLWithPath: errPath))) ?? Data()
    return CommandResult(
        status: exited.current ?? -9,
        stdout: String(decoding: stdout, as: UTF8.self),
        stderr: String(decoding: stderr, as: UTF8.self),
        stdoutBytes: Array(stdout))
}
