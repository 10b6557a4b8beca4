import ArgumentParser
import Foundation
import MaviAPI
import MaviClient

/// The options every command that talks to a library shares: where it is, which namespace, and
/// the key. The key itself is never an option, so it never appears in argv or `ps`: it comes from
/// `MAVI_API_KEY` or from a file only its owner can read.
///
/// Each option may also come from the settings file (`ConfigFile`); a flag wins over the file.
struct ClientOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Base URL of the library's API. Default: \(ClientConfiguration.defaultEndpoint.absoluteString).", valueName: "url"))
    var endpoint: String?

    @Option(help: ArgumentHelp("Namespace inside the account (the API's unique_id). Default: \(APILimits.defaultNamespace).", valueName: "name"))
    var namespace: String?

    @Option(help: ArgumentHelp(
        "File holding the API key; it must be readable by its owner only (chmod 600). Default: the \(APIKey.environmentVariable) environment variable.",
        valueName: "path"
    ))
    var apiKeyFile: String?

    @Option(help: ArgumentHelp("How the key is sent: raw (Authorization: KEY, the default) or bearer (Authorization: Bearer KEY).", valueName: "scheme"))
    var authScheme: AuthScheme?

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(
        "Pace requests at the live service's rate limits (one upload a minute, …); the default. --no-pacing suits a server without them, such as mavifs serve --no-rate-limits."))
    var pacing: Bool?

    func validate() throws {
        if let endpoint, Self.httpURL(endpoint) == nil {
            throw ValidationError("--endpoint must be an http or https URL, such as \(ClientConfiguration.defaultEndpoint.absoluteString)")
        }
        if namespace?.isEmpty == true { throw ValidationError("--namespace must not be empty") }
    }

    static func httpURL(_ text: String) -> URL? {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = url.host, !host.isEmpty else { return nil }
        return url
    }

    /// The client configuration these options describe, with the settings file filling in what no
    /// flag gave. A key is required unless the endpoint is on this machine (a local server that
    /// may not check keys).
    func makeConfiguration(
        config: ConfigSettings = ConfigSettings(values: [:]), report: inout SettingsReport,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> ClientConfiguration {
        let endpointText = try report.pick(
            "endpoint", flag: endpoint, config: config, read: config.string, default: ClientConfiguration.defaultEndpoint.absoluteString,
            describe: Self.displayEndpoint)
        guard let url = Self.httpURL(endpointText) else {
            throw SettingsError("endpoint \(Self.displayEndpoint(endpointText)) (\(config.origin("endpoint") ?? "--endpoint")) must be an http or https URL")
        }
        let namespace = try report.pick("namespace", flag: namespace, config: config, read: config.string, default: APILimits.defaultNamespace)
        guard !namespace.isEmpty else { throw SettingsError("namespace (\(config.origin("namespace") ?? "--namespace")) must not be empty") }
        let keyFile = try report.pickOptional(
            "api_key_file", flag: apiKeyFile, config: config, read: config.path, none: "none: \(APIKey.environmentVariable) if set")
        let scheme = try report.pick("auth_scheme", flag: authScheme, config: config, read: { key in
            try config.string(key).map { text in
                guard let scheme = AuthScheme(rawValue: text) else {
                    throw SettingsError("\(config.origin(key) ?? "config"): auth_scheme must be \"raw\" or \"bearer\"")
                }
                return scheme
            }
        }, default: .raw, describe: \.rawValue)
        let paced = try report.pick(
            "pacing", flag: pacing, flagName: pacing == false ? "--no-pacing" : nil, config: config, read: config.bool, default: true)

        let key: APIKey?
        if let keyFile {
            key = try APIKey.load(fromFile: keyFile)
        } else {
            key = try APIKey.fromEnvironment(environment)
        }
        if key == nil, !Self.isLoopback(url) {
            throw APIKeyError.missing
        }
        return ClientConfiguration(
            endpoint: url, namespace: namespace, apiKey: key, authScheme: scheme,
            pacing: paced ? .documented : .unlimited, userAgent: "mavifs/\(MavifsVersion.current)"
        )
    }

    /// For commands that report nothing.
    func makeConfiguration(config: ConfigSettings = ConfigSettings(values: [:])) throws -> ClientConfiguration {
        var report = SettingsReport()
        return try makeConfiguration(config: config, report: &report)
    }

    static func isLoopback(_ url: URL) -> Bool {
        guard let host = url.host?.lowercased() else { return false }
        return host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    /// The endpoint as it may be shown: without any user or password it carries.
    static func displayEndpoint(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.user != nil || components.password != nil else { return text }
        components.user = nil
        components.password = nil
        return components.string ?? text
    }
}

extension AuthScheme: ExpressibleByArgument {}
