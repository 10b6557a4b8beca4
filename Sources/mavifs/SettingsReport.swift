/// The value every setting ended with and where it came from: a flag, the settings file, or the
/// built-in default. `mavifs mount --dry-run` prints it, so a person can see which file or flag
/// set what.
struct SettingsReport: Sendable {
    struct Line: Sendable, Equatable {
        let key: String
        let value: String
        let origin: String
    }

    private(set) var lines: [Line] = []

    /// Picks the flag's value, else the file's, else `fallback`, and notes which one it was.
    mutating func pick<T>(
        _ key: String, flag: T?, flagName: String? = nil, config: ConfigSettings, read: (String) throws -> T?, default fallback: T,
        describe: (T) -> String = { "\($0)" }
    ) throws -> T {
        if let flag {
            lines.append(Line(key: key, value: describe(flag), origin: flagName ?? "--" + key.replacingOccurrences(of: "_", with: "-")))
            return flag
        }
        if let value = try read(key) {
            lines.append(Line(key: key, value: describe(value), origin: config.origin(key) ?? "config"))
            return value
        }
        lines.append(Line(key: key, value: describe(fallback), origin: "default"))
        return fallback
    }

    /// Like `pick`, for settings whose default is "none" (computed later, or off).
    mutating func pickOptional<T>(
        _ key: String, flag: T?, config: ConfigSettings, read: (String) throws -> T?, none: String,
        describe: (T) -> String = { "\($0)" }
    ) throws -> T? {
        if let flag {
            lines.append(Line(key: key, value: describe(flag), origin: "--" + key.replacingOccurrences(of: "_", with: "-")))
            return flag
        }
        if let value = try read(key) {
            lines.append(Line(key: key, value: describe(value), origin: config.origin(key) ?? "config"))
            return value
        }
        lines.append(Line(key: key, value: none, origin: "default"))
        return nil
    }

    mutating func note(_ key: String, _ value: String, origin: String) {
        lines.append(Line(key: key, value: value, origin: origin))
    }

    /// One line per setting: key, value, origin in aligned columns.
    var text: String {
        let keyWidth = lines.map(\.key.count).max() ?? 0
        let valueWidth = min(48, lines.map(\.value.count).max() ?? 0)
        return lines.map { line in
            let key = line.key.padding(toLength: keyWidth, withPad: " ", startingAt: 0)
            let value = line.value.count < valueWidth ? line.value.padding(toLength: valueWidth, withPad: " ", startingAt: 0) : line.value
            return "  \(key)  \(value)  (\(line.origin))"
        }.joined(separator: "\n")
    }
}
