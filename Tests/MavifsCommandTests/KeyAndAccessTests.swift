import Foundation
import Glibc
import MaviServer
import Testing
import TestSupport

/// The key stays secret and the mount stays private: never in argv, the environment of the
/// running mount, its log or ps; key files must be private; other users see nothing unless
/// `-o allow_other`, and then the kernel enforces the modes; the server keeps off the network
/// unless given a key.
@Suite("The key and who gets in", .serialized, .timeLimit(.minutes(4)))
struct KeyAndAccessTests {
    /// `setpriv` running `arguments` as nobody, with no groups.
    static func asNobody(_ arguments: [String]) async throws -> CommandResult {
        try await run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"] + arguments, timeout: 30)
    }

    @Test("a background mount: the key is in neither its argv nor its environment, nor its log, nor ps, even after errors")
    func keyNowhere() async throws {
        try await MountFixture.with(videoCount: 1, videoSize: 300_000) { fixture in
            let key = fixture.server.apiKey
            let mnt = try fixture.directory("mnt-key")
            let started = try await run([fixture.binary, "mount", mnt, "--endpoint", fixture.server.baseURL, "--no-pacing",
                                         "--cache-dir", fixture.work + "/cache-key", "--read-timeout", "3"], timeout: 60, environment: fixture.environment)
            #expect(started.succeeded, "\(started.stderr)")
            defer { forceUnmount(mnt) }
            #expect(!started.stdout.contains(key) && !started.stderr.contains(key))
            let daemon = try #require(Self.process(withArgument: mnt), "the background mount process")

            // Errors get logged: a read whose download the server refuses.
            fixture.server.server.setFaults(FaultSettings(http503: 1000, endpoints: [.download, .file, .downloadBlob]))
            let video = fixture.videos[0]
            let failed = try await blocking(timeout: 60) { checkedRead(mnt + "/" + video.byID, source: video.source, offsets: [0]) }
            #expect(failed.failures == [EIO: 1])
            fixture.server.server.setFaults(FaultSettings())

            let cmdline = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(daemon)/cmdline"))
            let environ = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(daemon)/environ"))
            #expect(!Self.contains(cmdline, key), "argv of the mount")
            #expect(!Self.contains(environ, key), "environment of the mount")
            #expect(!Self.contains(environ, "MAVI_API_KEY=s"), "the variable's value is erased")
            let ps = try await run(["ps", "-eww", "-o", "pid,args"], timeout: 20)
            #expect(ps.succeeded && !ps.stdout.contains(key))
            let log = try String(contentsOfFile: fixture.work + "/state/mavifs/mount.log", encoding: .utf8)
            #expect(log.contains("read failed") || log.contains("read timed out"), "the failure was logged: \(log.suffix(2000))")
            #expect(!log.contains(key), "the log")

            let unmounted = try await run([fixture.binary, "unmount", mnt], timeout: 30)
            #expect(unmounted.succeeded)
            try await waitUntil("the mount process to exit", timeout: 30) { kill(daemon, 0) != 0 }
            reportFigure("key", "checked argv (\(cmdline.count) bytes), environment (\(environ.count) bytes), ps, and \(log.utf8.count) bytes of log")
        }
    }

    @Test("a wrong key fails the mount with the service's reason, and the key is not printed")
    func wrongKey() async throws {
        try await MountFixture.with(videoCount: 1, videoSize: 1000) { fixture in
            let wrong = "sk-mavi-wrong-0123456789abcdef0123456789"
            var environment = fixture.environment
            environment["MAVI_API_KEY"] = wrong
            let mnt = try fixture.directory("mnt-wrong")
            let result = try await run([fixture.binary, "mount", mnt, "--endpoint", fixture.server.baseURL, "--no-pacing",
                                        "--cache-dir", fixture.work + "/cache-wrong"], timeout: 60, environment: environment)
            #expect(!result.succeeded)
            #expect(result.stderr.contains("key"), "\(result.stderr)")
            #expect(!result.stderr.contains(wrong) && !result.stdout.contains(wrong))
            let log = (try? String(contentsOfFile: fixture.work + "/state/mavifs/mount.log", encoding: .utf8)) ?? ""
            #expect(!log.contains(wrong))
            #expect(mountOptions(of: mnt) == nil)
        }
    }

    @Test("--api-key-file must be private to its owner, for mount as for serve")
    func keyFiles() async throws {
        try await MountFixture.with(videoCount: 1, videoSize: 1000) { fixture in
            let keyFile = fixture.work + "/key"
            try Data((fixture.server.apiKey + "\n").utf8).write(to: URL(fileURLWithPath: keyFile))
            var environment = fixture.environment
            environment["MAVI_API_KEY"] = nil
            let mnt = try fixture.directory("mnt-keyfile")
            for mode in [0o644, 0o640, 0o604] {
                chmod(keyFile, mode_t(mode))
                let refused = try await run([fixture.binary, "mount", mnt, "-f", "--endpoint", fixture.server.baseURL, "--api-key-file", keyFile,
                                             "--cache-dir", fixture.work + "/cache-keyfile"], timeout: 60, environment: environment)
                #expect(!refused.succeeded)
                #expect(refused.stderr.contains("chmod 600"), "\(refused.stderr)")
                #expect(!refused.stderr.contains(fixture.server.apiKey))
                #expect(mountOptions(of: mnt) == nil)
            }
            chmod(keyFile, 0o600)
            let mount = try await fixture.mount(mnt, cache: fixture.work + "/cache-keyfile", ["--api-key-file", keyFile], environment: environment)
            #expect(try await blocking { try FileManager.default.contentsOfDirectory(atPath: mnt + "/by-id") }.filter { !$0.hasSuffix(".srt") }.count == 1, "one video (and its subtitle sidecar)")
            await fixture.unmount(mount, mnt)

            // The server's own key file.
            let library = fixture.work + "/served"
            let first = try await Self.serve(fixture, ["--library", library, "--port", "0"], environment: environment)
            #expect(first.stdout.contains("API key   in \(library)/api-key"), "\(first.stdout)")
            chmod(library + "/api-key", 0o644)
            let refused = try await Self.serve(fixture, ["--library", library, "--port", "0"], environment: environment)
            #expect(refused.exited && refused.stderr.contains("chmod 600"), "\(refused.stderr)")
        }
    }

    @Test("the server listens on loopback by default, and refuses a public address without a key")
    func serverBinding() async throws {
        try await MountFixture.with(videoCount: 0, videoSize: 0) { fixture in
            var environment = fixture.environment
            environment["MAVI_API_KEY"] = nil
            let local = try await Self.serve(fixture, ["--library", fixture.work + "/lib-local", "--port", "0"], environment: environment)
            #expect(local.stdout.contains("endpoint  http://127.0.0.1:"), "\(local.stdout)")
            for host in ["0.0.0.0", "::"] {
                let refused = try await Self.serve(fixture, ["--library", fixture.work + "/lib-public", "--port", "0", "--host", host], environment: environment)
                #expect(refused.exited && refused.stderr.contains("refusing to listen on \(host)"), "\(refused.stderr)")
                #expect(!FileManager.default.fileExists(atPath: fixture.work + "/lib-public/api-key"), "no key was made up")
            }
            environment["MAVI_API_KEY"] = "sk-mavi-chosen-0123456789abcdef"
            let keyed = try await Self.serve(fixture, ["--library", fixture.work + "/lib-public", "--port", "0", "--host", "0.0.0.0"], environment: environment)
            #expect(!keyed.exited && keyed.stdout.contains("API keys  from MAVI_API_KEY"), "\(keyed.stdout) \(keyed.stderr)")
        }
    }

    @Test("private by default: another user cannot even stat the mount; with allow_other the kernel enforces the modes")
    func access() async throws {
        try await MountFixture.with(videoCount: 1, videoSize: 200_000) { fixture in
            let video = fixture.videos[0]
            let mnt = try fixture.directory("mnt-private")
            var mount = try await fixture.mount(mnt, cache: fixture.work + "/cache-access")
            #expect(try await run(["stat", mnt + "/by-id"], timeout: 20).succeeded, "the owner gets in")
            let denied = try await Self.asNobody(["stat", mnt])
            #expect(!denied.succeeded && denied.stderr.contains("Permission denied"), "\(denied.stderr)")
            #expect(mountOptions(of: mnt).map { !$0.contains("allow_other") } == true)
            await fixture.unmount(mount, mnt)

            mount = try await fixture.mount(mnt, cache: fixture.work + "/cache-access", ["-o", "allow_other"])
            let options = try #require(mountOptions(of: mnt))
            #expect(options.contains("allow_other") && options.contains("default_permissions"), "\(options)")
            let readable = try await Self.asNobody(["cmp", mnt + "/" + video.byID, fixture.work + "/source-0.mp4"])
            #expect(readable.succeeded, "mode 0444: others may read (\(readable.stderr))")
            let write = try await Self.asNobody(["sh", "-c", "echo x > \(mnt)/by-id/new"])
            #expect(!write.succeeded)
            await fixture.unmount(mount, mnt)

            mount = try await fixture.mount(mnt, cache: fixture.work + "/cache-access", ["-o", "allow_other,umask=077"])
            let listing = try await Self.asNobody(["ls", mnt + "/by-id"])
            #expect(!listing.succeeded && listing.stderr.contains("Permission denied"), "mode 0500 for root only: \(listing.stderr)")
            let file = try await Self.asNobody(["cat", mnt + "/" + video.byID])
            #expect(!file.succeeded && file.stderr.contains("Permission denied"))
            #expect(try await run(["cmp", mnt + "/" + video.byID, fixture.work + "/source-0.mp4"], timeout: 30).succeeded, "the owner still reads")
            await fixture.unmount(mount, mnt)
        }
    }

    // MARK: Helpers

    static func contains(_ data: Data, _ text: String) -> Bool {
        data.range(of: Data(text.utf8)) != nil
    }

    /// The pid of the process that has `argument` in its argv (the background mount).
    static func process(withArgument argument: String) -> pid_t? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            guard let pid = pid_t(entry), pid != getpid(),
                  let cmdline = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/cmdline")) else { continue }
            let arguments = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if arguments.contains(argument), arguments.contains("--foreground") { return pid }
        }
        return nil
    }

    struct ServeOutcome {
        /// The server stopped by itself within the wait (a refusal); otherwise it was stopped.
        var exited: Bool
        var stdout: String
        var stderr: String
    }

    /// Runs `mavifs serve` until it prints its endpoint or exits, for at most 30 s, then stops it.
    static func serve(_ fixture: MountFixture, _ arguments: [String], environment: [String: String]) async throws -> ServeOutcome {
        let child = try ChildProcess([fixture.binary, "serve"] + arguments, environment: environment, directory: fixture.work)
        try await waitUntil("mavifs serve to start or exit", timeout: 30) {
            await child.wait(timeout: 0) != nil || child.stdout.contains("endpoint")
        }
        let exited = await child.wait(timeout: 0) != nil
        let outcome = ServeOutcome(exited: exited, stdout: child.stdout, stderr: child.stderr)
        child.signal(SIGTERM)
        if await child.wait(timeout: 20) == nil { await child.stop() }
        return outcome
    }
}
