import ArgumentParser
import Foundation
import Glibc
import FUSE
import Logging

/// `-o ro,allow_other,uid=1000,gid=1000,umask=022`, as mount(8) and fstab write them.
struct ParsedMountOptions {
    var readOnly = false
    var allowOther = false
    var uid: uid_t?
    var gid: gid_t?
    var umask: mode_t?

    init(_ groups: [String]) throws {
        for option in groups.flatMap({ $0.split(separator: ",").map(String.init) }) where !option.isEmpty {
            let parts = option.split(separator: "=", maxSplits: 1).map(String.init)
            switch (parts[0], parts.count == 2 ? parts[1] : nil) {
            case ("ro", nil): readOnly = true
            case ("rw", nil): readOnly = false
            case ("allow_other", nil): allowOther = true
            case ("uid", let v?): uid = try Self.number(v, option, radix: 10)
            case ("gid", let v?): gid = try Self.number(v, option, radix: 10)
            case ("umask", let v?): umask = try Self.number(v, option, radix: 8)
            // Accepted from fstab lines and ignored: they mean nothing here or are always on.
            case ("defaults", nil), ("nofail", nil), ("noauto", nil), ("auto", nil), ("user", nil), ("users", nil),
                 ("_netdev", nil), ("nosuid", nil), ("nodev", nil), ("noexec", nil), ("exec", nil), ("suid", nil), ("dev", nil):
                continue
            default:
                throw ValidationError("unknown mount option '\(option)' (known: ro, allow_other, uid=, gid=, umask=)")
            }
        }
    }

    private static func number<T: FixedWidthInteger>(_ text: String, _ option: String, radix: Int) throws -> T {
        guard let v = T(text, radix: radix) else { throw ValidationError("mount option '\(option)' needs a number") }
        return v
    }
}

enum MountPointCheck {
    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// The absolute path as the mount table will show it (symlinks in the parent resolved): the
    /// name a mount's status file and settings table are found by.
    static func canonical(_ path: String) -> String {
        Unmounter.canonicalPath(absolute(path))
    }

    static func validate(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("\(path) is not a directory; create it first (mkdir -p \(path))")
        }
        if Unmounter.isMountPoint(path) {
            throw ValidationError("\(path) is already mounted; unmount it first (mavifs unmount \(path))")
        }
    }
}

/// The write end of a pipe through which a background mount tells its parent it is ready.
struct ReadinessPipe {
    let fd: Int32

    func succeed() { send("ready\n") }
    func fail(_ message: String) { send("error: \(message)\n") }

    private func send(_ line: String) {
        _ = line.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }
}

/// Starting the mount in the background and waiting until it is ready.
enum Daemon {
    /// Re-runs this command in a new session with `--foreground --ready-fd 3`, its output going to a
    /// log file, and returns once the child reports the mount ready (or exits with an error).
    static func startInBackground(mountpoint: String) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw ValidationError("cannot create a pipe: \(String(cString: strerror(errno)))") }
        let logPath = MavifsLogging.backgroundLogPath()
        var arguments = Array(CommandLine.arguments.dropFirst())
        arguments += ["--foreground", "--ready-fd", "3"]
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // The read end goes first: it may itself be descriptor 3 (a parent with nothing else
        // open gets 3 and 4 from pipe()), and closing it after the dup2 would close the write end
        // just put there; the child would then write its report into, and close, whatever it
        // opened as 3 later.
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_adddup2(&actions, fds[1], 3)
        if fds[1] != 3 { posix_spawn_file_actions_addclose(&actions, fds[1]) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(0x80))  // POSIX_SPAWN_SETSID (glibc), not imported

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        close(fds[1])
        guard rc == 0 else {
            close(fds[0])
            throw ValidationError("cannot start the mount process: \(String(cString: strerror(rc)))")
        }
        let reply = readLine(fd: fds[0], timeout: 120)
        close(fds[0])
        if reply == "ready" {
            print("mavifs: mounted at \(mountpoint) (logs: \(logPath))")
            return
        }
        if let reply, reply.hasPrefix("error: ") {
            throw MountFailed(message: String(reply.dropFirst(7)), logPath: logPath)
        }
        throw MountFailed(message: reply == nil ? "the mount process did not report in time" : "the mount process exited", logPath: logPath)
    }

    private static func readLine(fd: Int32, timeout: Double) -> String? {
        var data = [UInt8]()
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, 200)
            if ready < 0 && errno != EINTR { return nil }
            if ready <= 0 { continue }
            var byte: UInt8 = 0
            let n = read(fd, &byte, 1)
            if n <= 0 { return data.isEmpty ? nil : String(decoding: data, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") { return String(decoding: data, as: UTF8.self) }
            data.append(byte)
        }
        return nil
    }
}

struct MountFailed: Error, CustomStringConvertible {
    let message: String
    let logPath: String
    var description: String { "mount failed: \(message) (details in \(logPath))" }
}

enum MavifsLogging {
    /// A logger writing to standard error (the log file, in the background). With `events`, its
    /// notices, warnings and errors are also kept for `mavifs status`.
    static func logger(_ label: String, verbose: Bool, events: RecentEvents? = nil) -> Logger {
        var logger = Logger(label: label) { label in
            let stream = StreamLogHandler.standardError(label: label)
            guard let events else { return stream }
            return MultiplexLogHandler([stream, RecentEventsLogHandler(label: label, events: events)])
        }
        logger.logLevel = verbose ? .debug : .info
        return logger
    }

    /// `$XDG_STATE_HOME/mavifs/mount.log`, else `~/.local/state/mavifs/mount.log`.
    static func backgroundLogPath() -> String {
        let env = ProcessInfo.processInfo.environment
        let base = env["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.local/state")
        let dir = base + "/mavifs"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir + "/mount.log"
    }
}
