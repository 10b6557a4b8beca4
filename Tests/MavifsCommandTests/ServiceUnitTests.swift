import Foundation
import MaviServer
import Testing
import TestSupport

/// contrib/systemd/mavifs@.service, checked by `systemd-analyze verify` and run the way systemd
/// runs it: ExecStartPre, then ExecStart with a `$NOTIFY_SOCKET` whose READY=1 must come once the
/// folder is mounted, then ExecStop, after which the service's process must exit cleanly.
/// (This machine's PID 1 is not systemd, so the unit cannot be started by systemctl here.)
@Suite("systemd unit", .serialized, .timeLimit(.minutes(3)))
struct ServiceUnitTests {
    static let unitPath: String = {
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return package.appendingPathComponent("contrib/systemd/mavifs@.service").path
    }()

    /// The `Key=value` lines of the unit's `[Service]` section, in order.
    static func serviceLines() throws -> [(key: String, value: String)] {
        let text = try String(contentsOfFile: unitPath, encoding: .utf8)
        var section = ""
        var lines: [(String, String)] = []
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") { section = line; continue }
            guard section == "[Service]", let eq = line.firstIndex(of: "=") else { continue }
            lines.append((String(line[..<eq]), String(line[line.index(after: eq)...])))
        }
        return lines
    }

    /// A command line of the unit with the specifiers of instance `mountpoint` expanded and the
    /// installed path of mavifs replaced by the built one. Splits on spaces (the unit quotes nothing).
    static func commandLine(_ value: String, mountpoint: String) throws -> [String] {
        let escaped = mountpoint.split(separator: "/").joined(separator: "-")
        let expanded = value.replacingOccurrences(of: "%f", with: mountpoint).replacingOccurrences(of: "%i", with: escaped)
            .replacingOccurrences(of: "%h", with: NSHomeDirectory())
        var words = expanded.split(separator: " ").map(String.init)
        if words.first == "/usr/local/bin/mavifs" { words[0] = try MavifsBinary.path() }
        return words
    }

    @Test("the unit is a notify service with a start, a stop and a restart policy, and systemd-analyze verify accepts it")
    func verify() async throws {
        let lines = try Self.serviceLines()
        let keys = Dictionary(lines, uniquingKeysWith: { first, _ in first })
        #expect(keys["Type"] == "notify")
        #expect(keys["ExecStart"]?.hasPrefix("/usr/local/bin/mavifs mount --foreground %f") == true)
        #expect(keys["ExecStop"] == "/usr/local/bin/mavifs unmount %f")
        #expect(keys["Restart"] == "on-failure")

        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") else {
            Issue.record("systemd-analyze is not installed (apt-get install systemd); the unit was only parsed")
            return
        }
        // verify wants an instance name and an executable that exists: the built binary stands in.
        let directory = try TemporaryDirectory(prefix: "mavifs-unit")
        defer { directory.remove() }
        let unit = directory.appending("mavifs@home-me-videos.service")
        let text = try String(contentsOfFile: Self.unitPath, encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/bin/mavifs", with: try MavifsBinary.path())
        try Data(text.utf8).write(to: URL(fileURLWithPath: unit, isDirectory: false))
        let result = try await run(["systemd-analyze", "verify", unit], timeout: 60)
        #expect(result.status == 0 && result.stderr.isEmpty, "systemd-analyze verify: \(result.stderr)\(result.stdout)")
    }

    @Test("ExecStartPre and ExecStart mount and report READY=1 when the folder answers; ExecStop unmounts and the process exits 0")
    func startAndStop() async throws {
        let source = try await VideoFixtures.sharedMP4()
        let lines = try Self.serviceLines()
        try await ServerHarness.withServer { server in
            try await server.server.seedVideos(count: 1, namespace: "default", sourceFile: source)
            let home = try TemporaryDirectory(prefix: "mavifs-unit")
            defer { home.remove() }
            // The unit takes its settings from the settings file, as a user service would.
            try BinaryMount.writeConfig("endpoint = \"\(server.baseURL)\"\n", home: home.path)
            let mountpoint = home.appending("videos")
            let socket = try NotifySocket(path: home.appending("notify"))
            defer { socket.close() }
            var environment = BinaryMount.environment(home: home.path, key: server.apiKey)
            environment["NOTIFY_SOCKET"] = socket.path

            for (_, value) in lines.filter({ $0.key == "ExecStartPre" }) {
                let pre = try await run(try Self.commandLine(value, mountpoint: mountpoint), timeout: 30, environment: environment)
                #expect(pre.status == 0, "ExecStartPre \(value): \(pre.stderr)")
            }
            let start = try #require(lines.first { $0.key == "ExecStart" }?.value)
            let service = try BackgroundProcess(try Self.commandLine(start, mountpoint: mountpoint), environment: environment)
            defer {
                if isMounted(mountpoint) { _ = try? runBlocking(["fusermount3", "-u", "-z", mountpoint]) }
                service.kill()
            }

            let ready = try await socket.receive(containing: "READY=1", timeout: 90)
            #expect(isMounted(mountpoint), "READY=1 came once the folder was mounted")
            #expect(ready.contains("STATUS=mounted at \(mountpoint), 1 videos"), "\(ready)")
            #expect(ready.contains("MAINPID=\(service.pid)"))
            let listed = try await run(["ls", mountpoint + "/all"], timeout: 30)
            #expect(listed.status == 0 && listed.stdout.split(separator: "\n").contains { $0.hasSuffix(".mp4") }, "\(listed.stdout)\(listed.stderr)")

            let stop = try #require(lines.first { $0.key == "ExecStop" }?.value)
            let stopped = try await run(try Self.commandLine(stop, mountpoint: mountpoint), timeout: 60, environment: environment)
            #expect(stopped.status == 0, "ExecStop: \(stopped.stderr)")
            let stopping = try await socket.receive(containing: "STOPPING=1", timeout: 30)
            #expect(stopping.contains("STATUS=unmounted \(mountpoint)"))
            let exit = try await service.waitForExit(timeout: 60)
            #expect(exit == 0, "the service's main process ended cleanly: \(service.output())")
            #expect(!isMounted(mountpoint))
        }
    }
}

/// A unix datagram socket standing in for systemd's notification socket.
final class NotifySocket: Sendable {
    let path: String
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    /// Waits, on a thread of its own, for a datagram that contains `text`; earlier ones are skipped.
    func receive(containing text: String, timeout: Double) async throws -> String {
        let fd = fd
        return try await blocking("a notification with \(text)", timeout: timeout + 5) {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 200) > 0 else { continue }
                var buffer = [UInt8](repeating: 0, count: 4096)
                let n = recv(fd, &buffer, buffer.count, 0)
                guard n > 0 else { continue }
                let message = String(decoding: buffer[..<n], as: UTF8.self)
                if message.contains(text) { return message }
            }
            throw WaitExpired(what: "a notification with \(text)")
        }
    }

    func close() {
        Glibc.close(fd)
        unlink(path)
    }
}

/// A child process left running (as systemd leaves a service's main process), its output in files.
final class BackgroundProcess: Sendable {
    let pid: pid_t
    private let directory: TemporaryDirectory

    init(_ arguments: [String], environment: [String: String]) throws {
        directory = try TemporaryDirectory(prefix: "mavifs-proc")
        pid = try spawnChild(arguments, environment: environment, stdout: directory.appending("out"))
    }

    /// The exit status (128 + signal when a signal ended it), or a timeout error.
    func waitForExit(timeout: Double) async throws -> Int32 {
        let pid = pid
        return try await blocking("process \(pid) to exit", timeout: timeout + 5) {
            let deadline = Date().addingTimeInterval(timeout)
            var status: Int32 = 0
            while Date() < deadline {
                let r = waitpid(pid, &status, WNOHANG)
                if r == pid { return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f) }
                usleep(20_000)
            }
            throw WaitExpired(what: "process \(pid) to exit")
        }
    }

    func output() -> String {
        (try? String(contentsOfFile: directory.appending("out"), encoding: .utf8)) ?? ""
    }

    /// Ends the process if it still runs, and reaps it.
    func kill() {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == 0 {
            Glibc.kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
        directory.remove()
    }
}

struct WaitExpired: Error, CustomStringConvertible {
    let what: String
    var description: String { "gave up waiting for \(what)" }
}
