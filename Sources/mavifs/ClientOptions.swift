import ArgumentParser
import Foundation
import MaviAPI
import MaviClient

/// The options every command that talks to a library shares: where it is, which namespace, and
/// the key. The key itself is never an option, so it never appears in argv or `ps`: it comes from
/// `MAVI_API_KEY` or from a file only its owner can read.
struct ClientOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Base URL of the library's API.", valueName: "url"))
    var endpoint: String = ClientConfiguration.defaultEndpoint.absoluteString

    @Option(help: ArgumentHelp("Namespace inside the account (the API's unique_id).", valueName: "name"))
    var namespace: String = APILimits.defaultNamespace

    @Option(help: ArgumentHelp(
        "File holding the API key; it must be readable by its owner only. Default: the \(APIKey.environmentVariable) environment variable.",
        valueName: "path"
    ))
    var apiKeyFile: String?

    @Option(help: ArgumentHelp("How the key is sent: raw (Authorization: KEY) or bearer (Authorization: Bearer KEY).", valueName: "scheme"))
    var authScheme: AuthScheme = .raw

    @Flag(help: ArgumentHelp(
        "Do not pace requests at the live service's rate limits (one upload a minute, …): for a server without them, such as mavifs serve --no-rate-limits."))
    var noPacing = false

    func validate() throws {
        guard endpointURL != nil else {
            throw ValidationError("--endpoint must be an http or https URL, such as \(ClientConfiguration.defaultEndpoint.absoluteString)")
        }
        guard !namespace.isEmpty else { throw ValidationError("--namespace must not be empty") }
    }

    var endpointURL: URL? {
        guard let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = url.host, !host.isEmpty else { return nil }
        return url
    }

    /// The client configuration these options describe. A key is required unless the endpoint is
    /// on this machine (a local server that may not check keys).
    func makeConfiguration(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ClientConfiguration {
        guard let url = endpointURL else { throw ValidationError("invalid --endpoint") }
        let key: APIKey?
        if let apiKeyFile {
            key = try APIKey.load(fromFile: apiKeyFile)
        } else {
            key = try APIKey.fromEnvironment(environment)
        }
        if key == nil, !Self.isLoopback(url) {
            throw APIKeyError.missing
        }
        return ClientConfiguration(
            endpoint: url, namespace: namespace, apiKey: key, authScheme: authScheme,
            pacing: noPacing ? .unlimited : .documented, userAgent: "mavifs/\(MavifsVersion.current)"
        )
    }

    static func isLoopback(_ url: URL) -> Bool {
        guard let host = url.host?.lowercased() else { return false }
        return host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}

extension AuthScheme: ExpressibleByArgument {}
