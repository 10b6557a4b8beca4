import ArgumentParser
import Foundation
import Logging
import MaviAPI
import MaviServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run a local library server that speaks the memories.ai API.",
        discussion: """
            Videos, covers and metadata live under --library. Accepted API keys come from the
            environment variable MAVI_API_KEY (one key, or several separated by commas); without
            it a key is generated on first start and kept in DIR/api-key (mode 0600).

            Clients use http://HOST:PORT as the endpoint (API under /serve/api/v1). Loopback
            peers can read counters and inject faults at /_admin/stats and /_admin/faults.
            """
    )

    @Option(help: "Library directory (created if missing).")
    var library: String

    @Option(help: "Address to listen on. Anything but loopback requires MAVI_API_KEY.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port: Int = 8080

    @Flag(help: "Ignore Range on file URLs and answer 200 with the whole file.")
    var noRange = false

    @Flag(help: "Turn the documented rate limits off (for benchmarks).")
    var noRateLimits = false

    @Option(help: "Keep new uploads UNPARSE for at least this many milliseconds.")
    var processingDelayMs: Int = 0

    @Option(help: ArgumentHelp(
        "Faults to inject from the start, as the JSON /_admin/faults takes.",
        discussion: #"e.g. '{"latency_ms":200}' or '{"cut_after_bytes":1048576,"cut_count":3}'"#))
    var faults: String?

    @Option(help: ArgumentHelp(
        "Before serving, add this many synthetic parsed videos to the default namespace (benchmarks).",
        discussion: "Each run adds more. With --seed-source their originals are hard links to that file."))
    var seed: Int = 0

    @Option(help: "File every seeded video's original links to (default: metadata only, no files).")
    var seedSource: String?

    @Option(help: "Namespace (unique_id) the seeded videos go to.")
    var seedNamespace: String = APILimits.defaultNamespace

    @Option(help: "Seeded videos are named PREFIX-000000, PREFIX-000001, …")
    var seedName: String = "synthetic"

    func validate() throws {
        guard seed >= 0 else { throw ValidationError("--seed cannot be negative") }
        guard !seedNamespace.isEmpty else { throw ValidationError("--seed-namespace must not be empty") }
        guard !seedName.isEmpty, !seedName.contains("/") else { throw ValidationError("--seed-name must be non-empty and without '/'") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard processingDelayMs >= 0 else { throw ValidationError("--processing-delay-ms cannot be negative") }
    }

    func run() async throws {
        let keys = Self.keysFromEnvironment()
        var options = ServerOptions(
            libraryDirectory: library, host: host, port: port, apiKeys: keys,
            rangeRequests: !noRange, rateLimits: !noRateLimits,
            processingDelay: .milliseconds(processingDelayMs), handleSignals: true)
        if let faults {
            do {
                options.faults = try JSONDecoder().decode(FaultSettings.self, from: Data(faults.utf8))
            } catch {
                throw ValidationError("--faults is not valid fault JSON: \(error)")
            }
        }
        let server: LibraryServer
        do {
            server = try LibraryServer(options: options)
        } catch let error as ServerStartError {
            throw ValidationError(error.description)
        }
        if seed > 0 {
            try await server.seedVideos(count: seed, namespace: seedNamespace, sourceFile: seedSource, namePrefix: seedName)
        }
        let endpointAnnouncement = Task {
            guard let base = try? await server.baseURL() else { return }
            var lines = ["mavifs serve: library \(library)", "  endpoint  \(base)  (API under \(APIPath.base))"]
            if let keyFile = server.keyFile {
                lines.append("  API key   in \(keyFile)")
            } else {
                lines.append("  API keys  from MAVI_API_KEY")
            }
            lines.append("  range     \(noRange ? "ignored (--no-range)" : "honoured")")
            lines.append("  limits    \(noRateLimits ? "off (--no-rate-limits)" : "on")")
            // Written unbuffered, so scripts reading a pipe see it at once.
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
        defer { endpointAnnouncement.cancel() }
        try await server.run()
    }

    /// `MAVI_API_KEY`, split on commas; nil when unset or blank.
    static func keysFromEnvironment() -> [String]? {
        guard let raw = ProcessInfo.processInfo.environment["MAVI_API_KEY"] else { return nil }
        let keys = raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return keys.isEmpty ? nil : keys
    }
}
