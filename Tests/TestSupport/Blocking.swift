import Dispatch
import Foundation

/// Errors from the bounded helpers.
public struct TimedOut: Error, CustomStringConvertible {
    public let what: String
    public let seconds: Double
    public var description: String { "\(what) did not finish within \(seconds)s" }
}

/// Runs blocking work (syscalls into a mount, for instance) on a thread of its own. Never on the
/// Swift concurrency pool nor on Dispatch's global queues (which are the same threads on Linux,
/// about one per core): a syscall into a FUSE mount served by this same process would take a
/// thread the filesystem needs to answer it.
///
/// Gives up after `timeout` seconds with `TimedOut`; the work itself keeps its thread until the
/// syscall returns (a mount teardown aborts the connection, which ends it).
public func blocking<T: Sendable>(
    _ what: String = "blocking call", timeout: Double = 20, _ body: @escaping @Sendable () throws -> T
) async throws -> T {
    let box = OneShot<Result<T, any Error>>()
    let thread = Thread {
        box.fulfil(Result { try body() })
    }
    thread.stackSize = 1 << 20
    thread.start()
    guard let result = await box.value(timeout: timeout) else {
        throw TimedOut(what: what, seconds: timeout)
    }
    return try result.get()
}

/// Polls `condition` every `interval` seconds until it holds, for at most `timeout` seconds.
public func waitUntil(
    _ what: String, timeout: Double = 10, interval: Double = 0.02, _ condition: @Sendable () async throws -> Bool
) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
    }
    if try await condition() { return }
    throw TimedOut(what: what, seconds: timeout)
}

/// A value set once, awaited with a time limit.
public final class OneShot<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: T?
    private var waiters: [CheckedContinuation<T?, Never>] = []

    public init() {}

    public func fulfil(_ value: T) {
        lock.lock()
        guard result == nil else {
            lock.unlock()
            return
        }
        result = value
        let w = waiters
        waiters = []
        lock.unlock()
        w.forEach { $0.resume(returning: value) }
    }

    public var current: T? {
        lock.lock()
        defer { lock.unlock() }
        return result
    }

    /// The value, or `nil` after `timeout` seconds.
    public func value(timeout: Double) async -> T? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let v = current { return v }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return current
    }
}
