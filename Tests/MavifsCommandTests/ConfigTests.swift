import Foundation
import MaviServer
import Testing
import TestSupport

/// The settings file and its precedence, through `mavifs mount --dry-run`, which resolves and checks
/// everything a mount would (the first listing included) and prints where each setting came from.
@Suite("mavifs settings file", .timeLimit(.minutes(2)))
struct ConfigTests {
    /// A home with `config` as its default settings file and an empty folder `mnt`.
    private func withHome<T>(config: String?, _ body: (String, String) async throws -> T) async throws -> T {
        let home = try TemporaryDirectory(prefix: "mavifs-cmd")
        defer { home.remove() }
        let mountpoint = home.appending("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        if let config { try BinaryMount.writeConfig(config, home: home.path) }
        return try await body(home.path, mountpoint)
    }

    private func dryRun(_ home: String, _ mountpoint: String, _ arguments: [String], key: String) async throws -> CommandResult {
        try await run(
            [try MavifsBinary.path(), "mount", mountpoint, "--dry-run"] + arguments, timeout: 60,
            environment: BinaryMount.environment(home: home, key: key))
    }

    /// The value and origin `--dry-run` printed for `key`.
    private func setting(_ key: String, in output: String) -> (value: String, origin: String)? {
        for line in output.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix(key + " "), let open = trimmed.lastIndex(of: "("), trimmed.hasSuffix(")") else { continue }
            let value = trimmed.dropFirst(key.count).prefix(upTo: open).trimmingCharacters(in: .whitespaces)
            return (value, String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]))
        }
        return nil
    }

    @Test("flags win over the mount point's table, which wins over the top level, which wins over defaults")
    func precedence() async throws {
        try await ServerHarness.withServer { server in
            try await server.server.seedVideos(count: 3, namespace: "from-table")
            let mountpoint = "__MOUNTPOINT__"
            let template = """
                endpoint = "\(server.baseURL)"
                namespace = "from-file"
                list_ttl = 7
                cache_max_size = "2G"
                options = ["umask=027"]

                [mounts."\(mountpoint)"]
                namespace = "from-table"
                allow_delete = true
                """
            let home = try TemporaryDirectory(prefix: "mavifs-cmd")
            defer { home.remove() }
            let mnt = home.appending("mnt")
            try FileManager.default.createDirectory(atPath: mnt, withIntermediateDirectories: true)
            try BinaryMount.writeConfig(template.replacingOccurrences(of: mountpoint, with: mnt), home: home.path)
            let file = home.path + "/config/mavifs/config.toml"

            let plain = try await dryRun(home.path, mnt, [], key: server.apiKey)
            #expect(plain.status == 0, "\(plain.stderr)")
            #expect(setting("namespace", in: plain.stdout)! == ("from-table", "\(file) [mounts.\"\(mnt)\"]"))
            #expect(setting("allow_delete", in: plain.stdout)! == ("true", "\(file) [mounts.\"\(mnt)\"]"))
            #expect(setting("list_ttl", in: plain.stdout)! == ("7", file))
            #expect(setting("endpoint", in: plain.stdout)! == (server.baseURL, file))
            #expect(setting("options", in: plain.stdout)! == ("umask=027", file))
            #expect(setting("verbose", in: plain.stdout)! == ("false", "default"))
            #expect(setting("cache_block_size", in: plain.stdout)?.origin == "default")
            #expect(plain.stdout.contains("3 videos in namespace from-table"), "the table's namespace was listed: \(plain.stdout)")
            #expect(!plain.stdout.contains(server.apiKey) && !plain.stderr.contains(server.apiKey))

            let flagged = try await dryRun(
                home.path, mnt, ["--namespace", "from-flag", "--no-allow-delete", "--list-ttl", "3", "-o", "ro"], key: server.apiKey)
            #expect(flagged.status == 0, "\(flagged.stderr)")
            #expect(setting("namespace", in: flagged.stdout)! == ("from-flag", "--namespace"))
            #expect(setting("allow_delete", in: flagged.stdout)! == ("false", "--no-allow-delete"))
            #expect(setting("list_ttl", in: flagged.stdout)! == ("3", "--list-ttl"))
            #expect(setting("options", in: flagged.stdout)! == ("umask=027,ro", "-o"))
            #expect(setting("cache_max_size", in: flagged.stdout)?.origin == file, "untouched by the flags")

            // Another mount point gets the top level only.
            let other = home.appending("other")
            try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
            let elsewhere = try await dryRun(home.path, other, [], key: server.apiKey)
            #expect(setting("namespace", in: elsewhere.stdout)! == ("from-file", file))
            #expect(setting("allow_delete", in: elsewhere.stdout)! == ("false", "default"))
        }
    }

    @Test("--config chooses another file; a missing one is an error, a missing default file is not")
    func explicitFile() async throws {
        try await ServerHarness.withServer { server in
            try await withHome(config: nil) { home, mnt in
                let noFile = try await dryRun(home, mnt, ["--endpoint", server.baseURL], key: server.apiKey)
                #expect(noFile.status == 0, "\(noFile.stderr)")
                #expect(setting("namespace", in: noFile.stdout)! == ("default", "default"))

                let other = home + "/elsewhere.toml"
                try Data("endpoint = \"\(server.baseURL)\"\nnamespace = \"chosen\"\n".utf8).write(to: URL(fileURLWithPath: other, isDirectory: false))
                let chosen = try await dryRun(home, mnt, ["--config", other], key: server.apiKey)
                #expect(chosen.status == 0, "\(chosen.stderr)")
                #expect(setting("namespace", in: chosen.stdout)! == ("chosen", other))
                #expect(setting("config", in: chosen.stdout)! == (other, "--config"))

                let missing = try await dryRun(home, mnt, ["--config", home + "/nope.toml"], key: server.apiKey)
                #expect(missing.status != 0)
                #expect(missing.stderr.contains("--config \(home)/nope.toml: no such file"), "\(missing.stderr)")
            }
        }
    }

    @Test("mistakes in the file name the file, the key and what it takes, and nothing is mounted", arguments: [
        ("colour = \"blue\"\n", "unknown setting 'colour'"),
        ("list_ttl = \"soon\"\n", "list_ttl must be seconds"),
        ("cache_max_size = \"lots\"\n", "cache_max_size must be a size such as \"20G\""),
        ("metrics_addr = \"9464\"\n", "metrics_addr must be HOST:PORT"),
        ("auth_scheme = \"basic\"\n", "auth_scheme must be \"raw\" or \"bearer\""),
        ("endpoint = \"ftp://example.org\"\n", "must be an http or https URL"),
        ("options = \"noexec,loud\"\n", "unknown mount option 'loud'"),
        ("list_ttl = \n", "config.toml:1:"),
        ("sidecar_listing_limit = -1\n", "config.toml) must be zero or more videos"),
    ])
    func mistakes(config: String, message: String) async throws {
        try await withHome(config: config) { home, mnt in
            // A closed port: a mistake that got past the settings would fail later, at the listing.
            let endpoint = config.hasPrefix("endpoint") ? [] : ["--endpoint", "http://127.0.0.1:9"]
            for arguments in [["--dry-run"], []] {
                let result = try await run(
                    [try MavifsBinary.path(), "mount", mnt] + endpoint + arguments, timeout: 60,
                    environment: BinaryMount.environment(home: home, key: "sk-mavi-unused"))
                #expect(result.status != 0)
                #expect(result.stderr.contains(message), "\(result.stderr)")
                #expect(result.stderr.contains("config.toml"), "the file is named: \(result.stderr)")
                #expect(!result.stderr.contains("Usage:"), "a settings mistake is not a usage mistake: \(result.stderr)")
                #expect(!isMounted(mnt))
            }
        }
    }

    @Test("a negative --sidecar-listing-limit is named as the flag, even where the file sets a good one")
    func negativeListingLimitFlag() async throws {
        try await withHome(config: "sidecar_listing_limit = 10\n") { home, mnt in
            let result = try await run(
                [try MavifsBinary.path(), "mount", mnt, "--endpoint", "http://127.0.0.1:9", "--sidecar-listing-limit=-5", "--dry-run"],
                timeout: 60, environment: BinaryMount.environment(home: home, key: "sk-mavi-unused"))
            #expect(result.status != 0)
            #expect(result.stderr.contains("--sidecar-listing-limit must be zero or more videos"), "\(result.stderr)")
            #expect(!result.stderr.contains("config.toml"), "the file is not to blame: \(result.stderr)")
            #expect(!isMounted(mnt))
        }
    }
}
