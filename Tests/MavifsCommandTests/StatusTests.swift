import Foundation
import MaviServer
import Testing
import TestSupport

/// `mavifs status` against a real background mount of the built binary.
@Suite("mavifs status", .serialized, .timeLimit(.minutes(3)))
struct StatusTests {
    @Test("a mount set up by the settings file shows its endpoint, namespace, videos, reads and refusals, never the key")
    func statusOfALiveMount() async throws {
        let source = try await VideoFixtures.sharedMP4(seconds: 2)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: source)[.size] as? Int)
        try await ServerHarness.withServer { server in
            try await server.server.seedVideos(count: 2, namespace: "status-ns", sourceFile: source)
            // The namespace comes from the settings file only: the status shows it took effect.
            try await BinaryMount.with(server: server, config: "namespace = \"status-ns\"\nlist_ttl = 1\n") { mount in
                let text = try await mount.command(["status", mount.mountpoint])
                #expect(text.status == 0, "stderr: \(text.stderr)")
                #expect(text.stdout.contains("\(mount.mountpoint): mounted (pid"), "\(text.stdout)")
                #expect(text.stdout.contains("endpoint   \(server.baseURL)  namespace status-ns"), "\(text.stdout)")
                #expect(text.stdout.contains("videos     2"), "\(text.stdout)")
                #expect(text.stdout.contains("hit ratio  no reads yet"), "\(text.stdout)")
                #expect(!text.stdout.contains(server.apiKey) && !text.stderr.contains(server.apiKey))

                let before = try await mount.status()
                #expect(before["condition"] as? String == "up")
                #expect(before["mounted"] as? Bool == true && before["process_running"] as? Bool == true)
                #expect(before["namespace"] as? String == "status-ns")
                #expect(before["videos"] as? Int == 2)

                // A read through the mount comes from the network, and the status says so.
                let names = try await mount.tool(["ls", mount.mountpoint + "/all"]).stdout.split(separator: "\n").map(String.init).filter { !$0.hasSuffix(".srt") }
                #expect(names.count == 2)
                let file = mount.mountpoint + "/all/" + (try #require(names.first))
                let compared = try await mount.tool(["cmp", source, file])
                #expect(compared.status == 0, "the mount gives the video's bytes: \(compared.stdout)\(compared.stderr)")
                // The status command has the mount rewrite its status first: the read shows at once.
                let cache = try await mount.status()["cache"] as? [String: Any]
                #expect((cache?["bytes_from_network"] as? Int ?? 0) + (cache?["bytes_from_cache"] as? Int ?? 0) >= size, "\(cache ?? [:])")

                // Read again past the kernel's page cache: the block cache answers.
                _ = try await mount.tool(["dd", "if=" + file, "of=/dev/null", "bs=64K", "iflag=direct"])
                let hitBytes = (try await mount.status()["cache"] as? [String: Any])?["bytes_from_cache"] as? Int ?? 0
                #expect(hitBytes >= size)
                let hits = try await mount.command(["status", mount.mountpoint])
                let ratio = hits.stdout.split(separator: "\n").first { $0.contains("hit ratio") }
                #expect(ratio?.contains("from the cache") == true && ratio?.contains("from the network") == true, "\(hits.stdout)")
                #expect(ratio?.contains(" 0.0%") == false, "\(hits.stdout)")

                // A refused rm is a recent error, with what to do about it.
                let removed = try await mount.tool(["rm", file])
                #expect(removed.status != 0 && removed.stderr.contains("Operation not permitted"))
                let events = try await mount.status()["recent_events"] as? [[String: Any]] ?? []
                #expect(events.contains { ($0["message"] as? String)?.contains("--allow-delete") == true }, "\(events)")
                let after = try await mount.command(["status", mount.mountpoint])
                #expect(after.stdout.contains("errors     1 recently"), "\(after.stdout)")
                #expect(after.stdout.contains("needs the --allow-delete mount option"), "\(after.stdout)")

                // Once unmounted, the status says so and the exit status is no longer 0.
                let unmounted = try await mount.command(["unmount", mount.mountpoint])
                #expect(unmounted.status == 0, "\(unmounted.stderr)")
                try await waitUntil("the mount to publish that it stopped", timeout: 30, interval: 0.2) {
                    try await mount.status()["state"] as? String == "stopped"
                }
                let stopped = try await mount.command(["status", mount.mountpoint])
                #expect(stopped.status == 1)
                #expect(stopped.stdout.contains("not mounted (last mount unmounted"), "\(stopped.stdout)")
                let json = try await mount.status()
                #expect(json["condition"] as? String == "not_mounted" && json["mounted"] as? Bool == false)
            }
        }
    }

    @Test("a download in flight is shown with its progress")
    func downloadInFlight() async throws {
        let home = try TemporaryDirectory(prefix: "mavifs-cmd")
        defer { home.remove() }
        let source = home.appending("big.mp4")
        try VideoFixtures.makeNonVideo(at: source, count: 4_000_000)
        // Without Range on file URLs the download stream is the only way to the bytes; it stalls
        // after 1 MB, so the download stays in flight while the status is read.
        try await ServerHarness.withServer(configure: { $0.rangeRequests = false }) { server in
            try await server.server.seedVideos(count: 1, namespace: "default", sourceFile: source)
            server.server.setFaults(FaultSettings(stallAfterBytes: 1_000_000, stallCount: 1, endpoints: [.download]))
            try await BinaryMount.with(server: server) { mount in
                let name = try #require(try await mount.tool(["ls", mount.mountpoint + "/all"]).stdout.split(separator: "\n").filter { !$0.hasSuffix(".srt") }.first)
                let reader = try BackgroundProcess(["cat", mount.mountpoint + "/all/" + name], environment: [:])
                defer { reader.kill() }
                try await waitUntil("the status to show the download", timeout: 30, interval: 0.5) {
                    let downloads = try await mount.status()["downloads"] as? [[String: Any]] ?? []
                    return (downloads.first?["received"] as? Int ?? 0) >= 1_000_000
                }
                let text = try await mount.command(["status", mount.mountpoint])
                #expect(text.stdout.contains("downloads  1 in flight"), "\(text.stdout)")
                #expect(text.stdout.contains("\(name)  25% ("), "the stall holds the stream at a quarter: \(text.stdout)")
            }
        }
    }

    @Test("without a mount point, every mount is listed; with none, it says how to make one and exits 1")
    func everyMount() async throws {
        let home = try TemporaryDirectory(prefix: "mavifs-cmd")
        defer { home.remove() }
        let nothing = try await run(
            [try MavifsBinary.path(), "status"], environment: BinaryMount.environment(home: home.path, key: ""))
        #expect(nothing.status == 1)
        #expect(nothing.stdout.contains("no mavifs mounts (mount one with: mavifs mount DIR)"), "\(nothing.stdout)")

        try await ServerHarness.withServer { server in
            try await BinaryMount.with(server: server) { mount in
                let all = try await mount.command(["status"])
                #expect(all.status == 0, "\(all.stdout)\(all.stderr)")
                #expect(all.stdout.hasPrefix("\(mount.mountpoint): mounted"), "\(all.stdout)")
                let json = try await mount.command(["status", "--json"])
                let list = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
                #expect(list?.count == 1 && list?.first?["mountpoint"] as? String == mount.mountpoint)

                // A mount that ended cleanly leaves the list (its last status stays for `status DIR`).
                _ = try await mount.command(["unmount", mount.mountpoint])
                try await waitUntil("the mount to publish that it stopped", timeout: 30, interval: 0.2) {
                    try await mount.status()["state"] as? String == "stopped"
                }
                let none = try await mount.command(["status"])
                #expect(none.status == 1 && none.stdout.contains("no mavifs mounts"), "\(none.stdout)")
            }
        }
    }

    @Test("a mount whose process was killed is reported stale, with the command that fixes it")
    func staleMount() async throws {
        try await ServerHarness.withServer { server in
            try await BinaryMount.with(server: server) { mount in
                let pid = try #require(try await mount.status()["pid"] as? Int)
                #expect(kill(pid_t(pid), SIGKILL) == 0)
                try await waitUntil("the killed process to go", timeout: 20, interval: 0.1) { processIsGone(pid) }
                let stale = try await mount.command(["status", mount.mountpoint])
                #expect(stale.status == 1)
                #expect(stale.stdout.contains("STALE"), "\(stale.stdout)")
                #expect(stale.stdout.contains("mavifs unmount \(mount.mountpoint)"), "\(stale.stdout)")
                #expect(try await mount.status()["condition"] as? String == "stale")
            }
        }
    }
}
