import Foundation
import Logging
import MaviAPI
@testable import MaviClient
import Synchronization
import Testing

/// Collects every log line (message and metadata) a client writes, to check that none holds the key.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    func logger() -> Logger {
        var logger = Logger(label: "mavifs.client.test") { label in CapturingHandler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    struct CapturingHandler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            capture.append("\(event.level) \(event.message) \(merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        }
    }
}

/// Retries with millisecond delays, so that tests of retry decisions run fast. Bounded by attempts
/// only: tests count the attempts, and a deadline would cut them short on a machine so busy that
/// each request is slow (the deadline has tests of its own).
let fastRetry = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(2), maxDelay: .milliseconds(10), deadline: nil)

func testConfiguration(
    _ endpoint: URL,
    key: String? = Fixtures.testKey,
    authScheme: AuthScheme = .raw,
    namespace: String = "test-space",
    retry: RetryPolicy = fastRetry,
    pacing: Pacing = .unlimited,
    // Short enough to keep failing tests quick, long enough for a loopback reply on a loaded machine.
    timeouts: Timeouts = Timeouts(connect: .seconds(2), request: .seconds(15), idleRead: .seconds(10), connectionIdle: .seconds(30)),
    clock: TimeSource = .continuous
) -> ClientConfiguration {
    ClientConfiguration(
        endpoint: endpoint, namespace: namespace, apiKey: key.map { try! APIKey($0) }, authScheme: authScheme,
        timeouts: timeouts, retry: retry, pacing: pacing, clock: clock
    )
}

/// Runs `body` with a client whose log lines are captured; afterwards, checks that no log line
/// contains the key. The client is shut down whether `body` returns or throws.
func withTestClient<Result>(
    _ configuration: ClientConfiguration,
    _ body: (MaviClient) async throws -> Result
) async throws -> Result {
    let capture = LogCapture()
    let result = try await MaviClient.withClient(configuration: configuration, logger: capture.logger(), body)
    if let secret = configuration.apiKey?.secret {
        for line in capture.all {
            #expect(!line.contains(secret), "a log line holds the key: \(line)")
        }
    }
    return result
}

/// The ``MaviClientError`` `operation` throws; records an issue if it throws anything else or
/// nothing. Also checks that no text form of the error holds the test key.
func clientError<Value>(
    _ operation: () async throws -> Value,
    sourceLocation: SourceLocation = #_sourceLocation
) async -> MaviClientError? {
    do {
        _ = try await operation()
        Issue.record("expected a MaviClientError, got success", sourceLocation: sourceLocation)
        return nil
    } catch let error as MaviClientError {
        expectNoKey(in: error, sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected a MaviClientError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

func expectNoKey(in error: any Error, sourceLocation: SourceLocation = #_sourceLocation) {
    var dumped = ""
    dump(error, to: &dumped)
    for text in [String(describing: error), String(reflecting: error), error.localizedDescription, dumped] {
        #expect(!text.contains(Fixtures.testKey), "error text holds the key: \(text)", sourceLocation: sourceLocation)
    }
}

/// Reads a whole byte stream into an array.
func readAll(_ stream: ByteStream) async throws -> [UInt8] {
    var bytes: [UInt8] = []
    for try await chunk in stream { bytes += chunk.readableBytesView }
    return bytes
}
