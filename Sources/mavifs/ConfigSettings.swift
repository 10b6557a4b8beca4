import Foundation

/// A value from the file, independent of the TOML library.
enum ConfigValue: Sendable, Equatable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case list([String])
}

/// The settings that apply to one command, each with the file (and table) it came from.
struct ConfigSettings: Sendable {
    let values: [String: (value: ConfigValue, origin: String)]

    func origin(_ key: String) -> String? { values[key]?.origin }

    func string(_ key: String) throws -> String? {
        guard let (value, origin) = values[key] else { return nil }
        guard case .string(let s) = value else { throw wrongType(key, origin) }
        return s
    }

    func path(_ key: String) throws -> String? {
        try string(key).map(ConfigFile.expandTilde)
    }

    func bool(_ key: String) throws -> Bool? {
        guard let (value, origin) = values[key] else { return nil }
        guard case .bool(let b) = value else { throw wrongType(key, origin) }
        return b
    }

    func int(_ key: String) throws -> Int? {
        guard let (value, origin) = values[key] else { return nil }
        guard case .int(let i) = value else { throw wrongType(key, origin) }
        return i
    }

    /// A size as a string with a unit ("20G") or a whole number of bytes.
    func size(_ key: String) throws -> ByteSize? {
        guard let (value, origin) = values[key] else { return nil }
        switch value {
        case .int(let bytes) where bytes >= 0: return ByteSize(bytes: Int64(bytes))
        case .string(let text): if let size = ByteSize(argument: text) { return size }
        default: break
        }
        throw wrongType(key, origin)
    }

    /// A comma-separated string or a list of strings.
    func list(_ key: String) throws -> [String]? {
        guard let (value, origin) = values[key] else { return nil }
        switch value {
        case .string(let s): return [s]
        case .list(let items): return items
        default: throw wrongType(key, origin)
        }
    }

    private func wrongType(_ key: String, _ origin: String) -> SettingsError {
        SettingsError("\(origin): \(key) must be \(ConfigFile.keys[key] ?? "another kind of value")")
    }
}
