import Foundation
import MaviServer
import Testing
import TestSupport

/// `mavifs cache warm|stats|clear` against a real background mount of the built binary.
@Suite("mavifs cache", .serialized, .timeLimit(.minutes(3)))
struct CacheCommandTests {
    @Test("warm fills the cache through the mount, with a progress bar on a terminal only; stats shows it; clear refuses a cache in use, then empties it")
    func warmStatsClear() async throws {
        let source = try await VideoFixtures.sharedMP4(seconds: 2)
        try await ServerHarness.withServer { server in
            let ids = try await server.server.seedVideos(count: 3, sourceFile: source)
            try await BinaryMount.with(server: server) { mount in
                let binary = try MavifsBinary.path()
                // script(1) gives the command a terminal, as a person typing it would have.
                let onTerminal = try await mount.tool(
                    ["script", "-q", "-e", "-c", "'\(binary)' cache warm '\(mount.mountpoint)/all'", "/dev/null"], timeout: 90)
                #expect(onTerminal.status == 0, "\(onTerminal.stdout)\(onTerminal.stderr)")
                #expect(onTerminal.stdout.contains("[#") && onTerminal.stdout.contains("100%"), "a progress bar: \(onTerminal.stdout)")
                #expect(onTerminal.stdout.components(separatedBy: ": cached").count - 1 == ids.count, "\(onTerminal.stdout)")
                // Each video came by ranged requests (the server honours Range), none by the download
                // endpoint, and a second warm (piped) finds them cached.
                #expect(server.server.stats().downloads.isEmpty, "Range first: \(server.server.stats().downloads)")
                let fetched = server.server.stats().fileRequests
                #expect(Set(fetched.keys) == Set(ids), "every video fetched: \(fetched)")
                let piped = try await mount.command(["cache", "warm", mount.mountpoint + "/all"], timeout: 90)
                #expect(piped.status == 0, "\(piped.stderr)")
                // Progress and results go to stderr, leaving stdout to pipes.
                #expect(!piped.stderr.contains("[#") && !piped.stderr.contains("%"), "no progress bar when piped: \(piped.stderr)")
                #expect(piped.stderr.split(separator: "\n").filter { $0.hasSuffix(": cached") || $0.contains(": cached,") }.count == ids.count, "\(piped.stderr)")
                #expect(server.server.stats().fileRequests == fetched && server.server.stats().downloads.isEmpty, "nothing fetched twice")

                let inUse = try await mount.command(["cache", "stats"])
                #expect(inUse.status == 0, "\(inUse.stderr)")
                #expect(inUse.stdout.contains("(in use)") && inUse.stdout.contains("in 3 videos (3 complete)"), "\(inUse.stdout)")
                let refused = try await mount.command(["cache", "clear"])
                #expect(refused.status != 0 && refused.stderr.contains("in use"), "\(refused.stdout)\(refused.stderr)")

                // Unmounted, the mount's reads are in the cache's totals, and clear empties it.
                let unmounted = try await mount.command(["unmount", mount.mountpoint])
                #expect(unmounted.status == 0, "\(unmounted.stderr)")
                try await waitUntil("the cache to be free", timeout: 30, interval: 0.2) {
                    try await !mount.command(["cache", "stats"]).stdout.contains("(in use)")
                }
                let after = try await mount.command(["cache", "stats"])
                let ratio = after.stdout.split(separator: "\n").first { $0.contains("hit ratio") }.map(String.init) ?? ""
                #expect(ratio.contains("from the cache") && ratio.contains("from the network") && !ratio.contains("0 bytes from the network"), "\(after.stdout)")
                let cleared = try await mount.command(["cache", "clear"])
                #expect(cleared.status == 0 && cleared.stdout.contains("removed") && cleared.stdout.contains("in 3 videos"), "\(cleared.stdout)\(cleared.stderr)")
                let empty = try await mount.command(["cache", "stats"])
                #expect(empty.stdout.contains("cached     0 bytes in 0 videos"), "\(empty.stdout)")
            }
        }
    }
}
