/// Runs `operation`, failing with `error` when it has not finished after `limit`; the operation
/// is cancelled then (for an HTTP body, that closes the connection).
func withTimeout<T: Sendable>(
    _ limit: Duration,
    error: MaviClientError,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw error
        }
        defer { group.cancelAll() }
        // Both children return or throw, so the first result always exists.
        return try await group.next()!
    }
}
