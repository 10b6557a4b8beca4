import Foundation
import MaviServer
import Testing
import TestSupport

/// `mavifs mount --metrics-addr`: scraped like Prometheus would, before and after real use.
@Suite("mavifs mount --metrics-addr", .serialized, .timeLimit(.minutes(3)))
struct MetricsTests {
    private func scrape(_ url: String, _ mount: BinaryMount) async throws -> (text: String, samples: [String: Double]) {
        let result = try await mount.tool(["curl", "-sS", "--max-time", "20", url])
        #expect(result.status == 0, "curl: \(result.stderr)")
        return (result.stdout, parsePrometheus(result.stdout))
    }

    @Test("operations by type and errno, API calls and retries by endpoint, bytes from the network, cache size all move")
    func countersMove() async throws {
        let source = try await VideoFixtures.sharedMP4(seconds: 2)
        let size = Double(try #require(try FileManager.default.attributesOfItem(atPath: source)[.size] as? Int))
        try await ServerHarness.withServer { server in
            try await server.server.seedVideos(count: 1, namespace: "default", sourceFile: source)
            try await BinaryMount.with(server: server, arguments: ["--metrics-addr", "127.0.0.1:0", "--list-ttl", "1"]) { mount in
                let url = try #require(try await mount.status()["metrics_url"] as? String)
                #expect(url.hasPrefix("http://127.0.0.1:") && url.hasSuffix("/metrics"))
                let before = try await scrape(url, mount).samples
                #expect(before["mavifs_api_requests_total{endpoint=\"list_videos\"}", default: 0] >= 1, "the first listing counted")
                #expect(before["mavifs_read_bytes_total{source=\"network\"}", default: 0] == 0)

                // Two 503s on the next listing: the client retries them, and says so.
                server.server.setFaults(FaultSettings(http503: 2, endpoints: [.listVideos]))
                try await Task.sleep(for: .milliseconds(1500))  // past the listing's time to live
                let listed = try await mount.tool(["ls", mount.mountpoint + "/all"])
                #expect(listed.status == 0, "\(listed.stderr)")
                let name = try #require(listed.stdout.split(separator: "\n").map(String.init).filter { !$0.hasSuffix(".srt") }.first)
                let compared = try await mount.tool(["cmp", source, mount.mountpoint + "/all/" + name])
                #expect(compared.status == 0, "\(compared.stdout)\(compared.stderr)")
                // Read again past the kernel's page cache: the block cache answers this time.
                let direct = try await mount.tool(["dd", "if=" + mount.mountpoint + "/all/" + name, "of=/dev/null", "bs=64K", "iflag=direct"])
                #expect(direct.status == 0, "\(direct.stderr)")
                let removed = try await mount.tool(["rm", mount.mountpoint + "/all/" + name])
                #expect(removed.status != 0)

                let (text, after) = try await scrape(url, mount)
                func grew(_ series: String, by least: Double = 1, sourceLocation: SourceLocation = #_sourceLocation) {
                    let delta = after[series, default: 0] - before[series, default: 0]
                    #expect(delta >= least, "\(series) grew by \(delta)", sourceLocation: sourceLocation)
                }
                grew("mavifs_api_retries_total{endpoint=\"list_videos\"}", by: 2)
                grew("mavifs_api_requests_total{endpoint=\"list_videos\"}", by: 3)
                grew("mavifs_api_first_byte_seconds_count{endpoint=\"list_videos\"}")
                grew("mavifs_fs_operations_total{operation=\"read\",result=\"ok\"}")
                grew("mavifs_fs_operations_total{operation=\"lookup\",result=\"ok\"}")
                grew("mavifs_fs_operations_total{operation=\"unlink\",result=\"EPERM\"}")
                grew("mavifs_fs_operation_seconds_count{operation=\"read\"}")
                grew("mavifs_read_bytes_total{source=\"network\"}", by: size)
                grew("mavifs_read_bytes_total{source=\"cache\"}", by: size)
                #expect(after["mavifs_cache_bytes", default: 0] >= size)
                #expect(after["mavifs_videos_listed"] == 1)
                // The bytes came by the download stream or by ranged requests, whichever the reader chose.
                let fetched = ["download", "download_object", "range"].reduce(0.0) { sum, endpoint in
                    sum + after["mavifs_api_requests_total{endpoint=\"\(endpoint)\"}", default: 0]
                }
                #expect(fetched >= 1)
                #expect(!text.contains(server.apiKey))
            }
        }
    }

    @Test("an address already in use fails the mount with the reason, leaving nothing mounted")
    func addressInUse() async throws {
        try await ServerHarness.withServer { server in
            // The library server's own port is surely taken.
            let home = try TemporaryDirectory(prefix: "mavifs-cmd")
            defer { home.remove() }
            let mountpoint = home.appending("mnt")
            try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
            let result = try await run(
                [try MavifsBinary.path(), "mount", mountpoint, "--endpoint", server.baseURL, "--metrics-addr", "127.0.0.1:\(server.port)"],
                timeout: 90, environment: BinaryMount.environment(home: home.path, key: server.apiKey))
            if result.status == 0 { _ = try? await run(["fusermount3", "-u", "-z", mountpoint]) }
            #expect(result.status != 0)
            #expect(result.stderr.contains("cannot serve metrics at 127.0.0.1:\(server.port)"), "\(result.stderr)")
            #expect(!isMounted(mountpoint))
        }
    }
}
