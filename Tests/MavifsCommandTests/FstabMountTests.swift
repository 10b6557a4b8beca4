import Foundation
import Glibc
import MaviAPI
import MaviClient
import Testing
import TestSupport

/// An `/etc/fstab` line, mounted by mount(8) through mount.fuse3, which runs `mavifs SOURCE
/// MOUNTPOINT -o OPTIONS`. A `fuse.mavifs` line finds `mavifs` on the system's PATH (mount(8)
/// drops the caller's); the `PROGRAM#SOURCE` form of type `fuse` names the binary, which lets the
/// test use the one just built.
@Suite("mavifs from /etc/fstab", .serialized, .timeLimit(.minutes(2)))
struct FstabMountTests {
    @Test("mount -T with a mavifs line mounts the library with the line's options")
    func fstabLine() async throws {
        let dir = try TemporaryDirectory(prefix: "mavifs-fstab")
        defer { dir.remove() }
        let mountpoint = dir.appending("videos")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        let file = try await VideoFixtures.sharedMP4()
        let binary = try MavifsBinary.path()

        try await ServerHarness.withServer { server in
            let configuration = ClientConfiguration(
                endpoint: URL(string: server.baseURL)!, namespace: "default", apiKey: try APIKey(server.apiKey), pacing: .unlimited)
            let reply = try await MaviClient.withClient(configuration: configuration) { client in
                try await client.upload(file: file, fields: UploadFields(fileName: "harbour.mp4"))
            }
            let keyFile = dir.appending("key")
            FileManager.default.createFile(atPath: keyFile, contents: Data(server.apiKey.utf8), attributes: [.posixPermissions: 0o600])
            // What a person would write: options mount(8) and systemd read, and mavifs's own.
            let line = "\(binary)#\(server.baseURL) \(mountpoint) fuse "
                + "noauto,nofail,_netdev,x-systemd.automount,api_key_file=\(keyFile),list_ttl=7,allow_delete,umask=027 0 0\n"
            let fstab = dir.appending("fstab")
            try Data(line.utf8).write(to: URL(fileURLWithPath: fstab))
            let environment = [
                "XDG_STATE_HOME": dir.appending("state"), "XDG_CACHE_HOME": dir.appending("cache"),
            ]
            defer { _ = try? runBlocking(["fusermount3", "-u", "-z", mountpoint]) }

            let mount = try await run(["mount", "-T", fstab, mountpoint], timeout: 60, environment: environment)
            #expect(mount.status == 0, "mount failed: \(mount.stderr)")
            let table = try String(contentsOfFile: "/proc/mounts", encoding: .utf8)
            let entry = try #require(table.split(separator: "\n").first { $0.split(separator: " ").dropFirst().first.map(String.init) == mountpoint })
            #expect(entry.split(separator: " ")[2] == "fuse.mavifs")

            let listing = try await run(["ls", "-l", mountpoint + "/all"])
            #expect(listing.stdout.contains("harbour.mp4"), "ls: \(listing.stdout) \(listing.stderr)")
            // umask=027 from the line: rw-r----- with allow_delete.
            #expect(listing.stdout.contains("-rw-r-----"), "modes: \(listing.stdout)")
            // allow_delete from the line: rm deletes on the server.
            let rm = try await run(["rm", "-f", mountpoint + "/by-id/\(reply.videoNo).mp4"])
            #expect(rm.status == 0, "rm: \(rm.stderr)")
            // Recorded when rm returns; on the server with the next batch, a moment later.
            try await waitUntil("the delete to reach the server", timeout: 30) {
                try await MaviClient.withClient(configuration: configuration) { try await $0.getMetadata(videoNo: reply.videoNo) } == nil
            }

            let umount = try await run(["umount", mountpoint])
            #expect(umount.status == 0, "umount: \(umount.stderr)")
            let after = try String(contentsOfFile: "/proc/mounts", encoding: .utf8)
            #expect(!after.contains(" \(mountpoint) "))
        }
    }

    @Test("an unknown option in the line fails the mount with its name, and mounts nothing")
    func unknownOption() async throws {
        let dir = try TemporaryDirectory(prefix: "mavifs-fstab")
        defer { dir.remove() }
        let mountpoint = dir.appending("videos")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        let binary = try MavifsBinary.path()
        defer { _ = try? runBlocking(["fusermount3", "-u", "-z", mountpoint]) }
        let result = try await run([binary, "http://127.0.0.1:9", mountpoint, "-o", "noauto,list_tll=5"], timeout: 30,
                                   environment: ["XDG_STATE_HOME": dir.appending("state")])
        #expect(result.status != 0)
        #expect(result.stderr.contains("list-tll"), "stderr: \(result.stderr)")
        let table = try String(contentsOfFile: "/proc/mounts", encoding: .utf8)
        #expect(!table.contains(" \(mountpoint) "))
    }
}
