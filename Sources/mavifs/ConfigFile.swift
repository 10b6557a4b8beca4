import ArgumentParser
import Foundation
import TOMLKit

/// The settings file, `$XDG_CONFIG_HOME/mavifs/config.toml` (else `~/.config/mavifs/config.toml`),
/// or the file `--config` names.
///
/// Every long option of `mavifs mount` is a key, spelled with underscores (`--list-ttl` is
/// `list_ttl`); flags given on the command line win over the file. A `[mounts."PATH"]` table holds
/// settings for one mount point only, winning over the top-level keys:
///
///     endpoint = "https://api.memories.ai"
///     api_key_file = "~/.config/mavifs/key"
///     cache_max_size = "20G"
///
///     [mounts."/home/me/videos"]
///     namespace = "family"
///     allow_delete = true
struct ConfigFile: Sendable {
    /// The keys the file may hold, and what each takes (for the error naming an unknown one).
    static let keys: [String: String] = [
        "endpoint": "a URL", "namespace": "a name", "api_key_file": "a path", "auth_scheme": "\"raw\" or \"bearer\"",
        "pacing": "true or false", "allow_delete": "true or false", "thumbnails": "true or false", "subtitles": "true or false", "sidecar_listing_limit": "videos", "list_ttl": "seconds", "options": "mount options such as \"ro,allow_other\"",
        "cache_dir": "a path", "cache_max_size": "a size such as \"20G\"", "cache_block_size": "a size such as \"4M\"",
        "read_ahead": "a size such as \"128M\"", "range_requests": "a count",
        "metrics_addr": "HOST:PORT", "verbose": "true or false",
    ]

    /// The file read, or nil when there is none (the default file is optional).
    let path: String?
    private let top: [String: ConfigValue]
    private let mounts: [String: [String: ConfigValue]]

    static let empty = ConfigFile(path: nil, top: [:], mounts: [:])

    /// `$XDG_CONFIG_HOME/mavifs/config.toml`, else `~/.config/mavifs/config.toml`.
    static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.config")
        return base + "/mavifs/config.toml"
    }

    /// Reads `explicitPath` (which must exist), or else the default file if there is one.
    static func load(explicitPath: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ConfigFile {
        let path = explicitPath.map { expandTilde($0) } ?? defaultPath(environment: environment)
        guard FileManager.default.fileExists(atPath: path) else {
            if explicitPath != nil { throw SettingsError("--config \(path): no such file") }
            return .empty
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw SettingsError("cannot read the config file \(path) (check its permissions)")
        }
        return try parse(text, path: path)
    }

    static func parse(_ text: String, path: String) throws -> ConfigFile {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw SettingsError("\(path):\(error.source.begin.line):\(error.source.begin.column): \(error.description)")
        }
        var top: [String: ConfigValue] = [:]
        var mounts: [String: [String: ConfigValue]] = [:]
        for (key, value) in table {
            if key == "mounts" {
                guard let sections = value.table else {
                    throw SettingsError("\(path): mounts must be tables, written [mounts.\"/path/to/mountpoint\"]")
                }
                for (mountpoint, section) in sections {
                    guard let settings = section.table else {
                        throw SettingsError("\(path): [mounts.\"\(mountpoint)\"] must be a table of settings")
                    }
                    let absolute = expandTilde(mountpoint)
                    guard absolute.hasPrefix("/") else {
                        throw SettingsError("\(path): [mounts.\"\(mountpoint)\"] must name an absolute path")
                    }
                    mounts[normalized(absolute)] = try values(of: settings, in: "\(path) [mounts.\"\(mountpoint)\"]")
                }
                continue
            }
            top[key] = try convert(value, key: key, in: path)
        }
        return ConfigFile(path: path, top: top, mounts: mounts)
    }

    private static func values(of table: TOMLTable, in place: String) throws -> [String: ConfigValue] {
        var result: [String: ConfigValue] = [:]
        for (key, value) in table { result[key] = try convert(value, key: key, in: place) }
        return result
    }

    private static func convert(_ value: any TOMLValueConvertible, key: String, in place: String) throws -> ConfigValue {
        guard keys[key] != nil else {
            throw SettingsError("\(place): unknown setting '\(key)' (known: \(keys.keys.sorted().joined(separator: ", ")))")
        }
        if let v = value.bool { return .bool(v) }
        if let v = value.int { return .int(v) }
        if let v = value.double { return .double(v) }
        if let v = value.string { return .string(v) }
        if let array = value.array {
            return .list(try array.map { item in
                guard let s = item.string else { throw SettingsError("\(place): \(key) must be a list of strings") }
                return s
            })
        }
        throw SettingsError("\(place): \(key) must be \(keys[key]!)")
    }

    /// The settings that apply to `mountpoint` (its own table over the top level); every setting
    /// when `mountpoint` is nil (commands other than mount).
    func settings(forMountpoint mountpoint: String?) -> ConfigSettings {
        guard let path else { return ConfigSettings(values: [:]) }
        var values = top.mapValues { (value: $0, origin: path) }
        if let mountpoint, let own = mounts[Self.normalized(mountpoint)] {
            for (key, value) in own { values[key] = (value, "\(path) [mounts.\"\(mountpoint)\"]") }
        }
        return ConfigSettings(values: values)
    }

    static func expandTilde(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        return NSHomeDirectory() + path.dropFirst()
    }

    private static func normalized(_ path: String) -> String {
        var p = path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return p
    }
}

/// The `--config` option of every command that reads the settings file.
struct ConfigOption: ParsableArguments {
    @Option(name: .customLong("config"), help: ArgumentHelp(
        "Settings file. Default: $XDG_CONFIG_HOME/mavifs/config.toml (~/.config/mavifs/config.toml), if it exists.",
        valueName: "path"))
    var path: String?

    func load() throws -> ConfigFile {
        try ConfigFile.load(explicitPath: path)
    }
}
