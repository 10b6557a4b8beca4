import Foundation
import MaviServer
import Testing
import TestSupport

/// `mavifs mount` run as a person runs it: the built binary, in the background, with config, state,
/// runtime and cache folders of its own (so it finds no settings but the test's), and always
/// unmounted at the end, its process gone, whether the test passed or not.
struct BinaryMount: Sendable {
    struct MountFailed: Error, CustomStringConvertible {
        let result: CommandResult
        var description: String { "mavifs mount exited with \(result.status): \(result.stderr)\(result.stdout)" }
    }

    let mountpoint: String
    let home: String
    let environment: [String: String]

    /// `home`'s folders for everything a command may read or write, and the server's key.
    static func environment(home: String, key: String) -> [String: String] {
        [
            "XDG_CONFIG_HOME": home + "/config", "XDG_STATE_HOME": home + "/state", "XDG_RUNTIME_DIR": home + "/run",
            "XDG_CACHE_HOME": home + "/cache", "MAVI_API_KEY": key, "NOTIFY_SOCKET": "",
        ]
    }

    /// Writes `text` as the default settings file of `home`.
    static func writeConfig(_ text: String, home: String) throws {
        try FileManager.default.createDirectory(atPath: home + "/config/mavifs", withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: home + "/config/mavifs/config.toml", isDirectory: false))
    }

    /// Mounts with `mavifs mount MOUNTPOINT --endpoint <server> ARGUMENTS…` (and `config` as the
    /// settings file), runs `body`, and unmounts.
    static func with<T>(
        server: RunningLibraryServer, arguments: [String] = [], config: String? = nil, home given: String? = nil,
        _ body: (BinaryMount) async throws -> T
    ) async throws -> T {
        // A home given is the caller's, kept for a next mount of the same folder with the same caches.
        let temporary = given == nil ? try TemporaryDirectory(prefix: "mavifs-cmd") : nil
        defer { temporary?.remove() }
        let home = given ?? temporary!.path
        let mount = BinaryMount(
            mountpoint: home + "/mnt", home: home, environment: environment(home: home, key: server.apiKey))
        try FileManager.default.createDirectory(atPath: mount.mountpoint, withIntermediateDirectories: true)
        if let config { try writeConfig(config, home: home) }
        let result = try await mount.command(["mount", mount.mountpoint, "--endpoint", server.baseURL] + arguments, timeout: 90)
        guard result.status == 0 else {
            await mount.teardown()
            throw MountFailed(result: result)
        }
        do {
            let value = try await body(mount)
            await mount.teardown()
            return value
        } catch {
            await mount.teardown()
            throw error
        }
    }

    /// Runs `mavifs ARGUMENTS…` with this mount's environment.
    func command(_ arguments: [String], timeout: Double = 60) async throws -> CommandResult {
        try await run([try MavifsBinary.path()] + arguments, timeout: timeout, environment: environment)
    }

    /// Runs a tool (ls, cmp, rm…) on the mount, in a child process with a time limit.
    func tool(_ arguments: [String], timeout: Double = 60) async throws -> CommandResult {
        try await run(arguments, timeout: timeout, environment: environment)
    }

    /// `mavifs status --json MOUNTPOINT`, decoded.
    func status() async throws -> [String: Any] {
        let result = try await command(["status", "--json", mountpoint])
        guard let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            throw MountFailed(result: result)
        }
        return object
    }

    /// Unmounts (the way a person would, then forcibly if that failed) and waits, bounded, for the
    /// mount's process to end; kills it if it does not.
    func teardown() async {
        let pid = (try? await status())?["pid"] as? Int
        if isMounted(mountpoint) {
            _ = try? await command(["unmount", mountpoint], timeout: 30)
        }
        if isMounted(mountpoint) {
            _ = try? await run(["fusermount3", "-u", "-z", mountpoint], timeout: 30)
        }
        guard let pid, pid > 0 else { return }
        try? await waitUntil("the mount process \(pid) to exit", timeout: 30, interval: 0.1) { processIsGone(pid) }
        if !processIsGone(pid) { kill(pid_t(pid), SIGKILL) }
    }
}

/// A name → value table of a Prometheus text page (`name{labels} value` lines; comments skipped).
func parsePrometheus(_ text: String) -> [String: Double] {
    var samples: [String: Double] = [:]
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
        samples[String(line[..<space])] = value
    }
    return samples
}

/// The process has exited: no such process, or a zombie nobody has reaped yet (a background mount's
/// parent exits at once, so init reaps it, whenever it gets to it).
func processIsGone(_ pid: Int) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
        return true
    }
    return stat[close...].dropFirst().trimmingCharacters(in: .whitespaces).first == "Z"
}
