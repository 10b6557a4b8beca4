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
    try await blocking("`\(arguments.joined(separator: " "))`", timeout: timeout + 5) {
        try runBlocking(arguments, timeout: timeout, environment: environment)
    }
}

/// The synchronous form of `run`, for code already off the pool.
public func runBlocking(_ arguments: [String], timeout: Double = 30, environment: [String: String]? = nil) throws -> CommandResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = arguments
    if let environment { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let killer = DispatchWorkItem { if p.isRunning { p.terminate(); kill(p.processIdentifier, SIGKILL) } }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
    // Read both pipes while the command runs, so a chatty command cannot fill a pipe and stall.
    let errData = OneShot<Data>()
    Thread { errData.fulfil(err.fileHandleForReading.readDataToEndOfFile()) }.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    killer.cancel()
    var errBytes = Data()
    let deadline = Date().addingTimeInterval(5)
    while Date() < deadline {
        if let e = errData.current { errBytes = e; break }
        usleep(1000)
    }
    return CommandResult(
        status: p.terminationStatus,
        stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errBytes, as: UTF8.self),
        stdoutBytes: Array(outData))
}
