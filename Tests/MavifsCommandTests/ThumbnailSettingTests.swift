import Foundation
import MaviAPI
import MaviClient
import MaviLibrary
import MaviServer
import Testing
import TestSupport

/// `mavifs mount` writes desktop thumbnails into `$XDG_CACHE_HOME/thumbnails` by default;
/// `--no-thumbnails` and `thumbnails = false` in the settings file turn that off. Subtitle
/// sidecars are shown by default too; `--no-subtitles` and `subtitles = false` leave them out.
@Suite("mavifs mount: desktop thumbnails and subtitle sidecars", .serialized, .timeLimit(.minutes(4)))
struct ThumbnailSettingTests {
    /// A server holding two processed uploads (each with its cover frame).
    private func withUploads(_ body: (RunningLibraryServer) async throws -> Void) async throws {
        let file = try await VideoFixtures.sharedMP4()
        try await ServerHarness.withServer { server in
            let configuration = ClientConfiguration(endpoint: URL(string: server.baseURL)!, apiKey: try APIKey(server.apiKey), pacing: .unlimited)
            try await MaviClient.withClient(configuration: configuration) { client in
                var ids: [String] = []
                for name in ["first clip.mp4", "second clip.mp4"] {
                    ids.append(try await client.upload(file: file, fields: UploadFields(fileName: name)).videoNo)
                }
                let uploaded = ids
                _ = try await ServerHarness.poll("uploads to finish processing", within: .seconds(60)) { () -> Bool? in
                    let videos = try await client.allVideos(filter: VideoFilter(videoNos: uploaded))
                    return videos.count == uploaded.count && videos.allSatisfy { $0.status == .parsed && $0.coverURL != nil } ? true : nil
                }
            }
            try await body(server)
        }
    }

    /// The lines of a listing that name videos: subtitle sidecars sit beside processed videos.
    private func videoLines(_ output: String) -> [String] {
        output.split(separator: "\n").map(String.init).filter { !$0.contains(".srt") }
    }

    private func thumbnails(_ mount: BinaryMount, _ size: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: mount.home + "/cache/thumbnails/" + size)) ?? []
    }

    @Test("by default, listing a folder writes a normal and a large thumbnail of each video, and status counts them")
    func onByDefault() async throws {
        try await withUploads { server in
            try await BinaryMount.with(server: server) { mount in
                // The mount opens its warm connections to the video origin (a one-byte ranged request
                // each), within a second before it appears or, on a busy machine, just after: counted
                // from once they are all in, what the server serves is what browsing cost.
                _ = try await ServerHarness.poll("the mount's warm connections", within: .seconds(30)) { () -> Bool? in
                    server.server.stats().fileRequests.values.reduce(0, +) >= VideoReader.spareConnections ? true : nil
                }
                server.server.resetStats()
                let listed = try await mount.tool(["ls", mount.mountpoint + "/all"])
                #expect(listed.succeeded && videoLines(listed.stdout).count == 2, "\(listed.stdout)\(listed.stderr)")
                _ = try await ServerHarness.poll("two thumbnails of each size", within: .seconds(30)) { () -> Bool? in
                    self.thumbnails(mount, "normal").count == 2 && self.thumbnails(mount, "large").count == 2 ? true : nil
                }
                let status = try await mount.status()
                let counts = try #require(status["thumbnails"] as? [String: Any])
                #expect(counts["written"] as? Int == 2 && counts["failed"] as? Int == 0, "\(counts)")
                #expect(server.server.stats().downloads.isEmpty && server.server.stats().fileRequests.isEmpty)
            }
        }
    }

    @Test("times stay the same across remounts, so the next mount finds every thumbnail current and writes none again")
    func stableAcrossRemounts() async throws {
        try await withUploads { server in
            // One home for both mounts: the same mount point, cache folder and thumbnail cache.
            let home = try TemporaryDirectory(prefix: "mavifs-cmd-remount")
            defer { home.remove() }
            var first: [String] = []
            for round in 0..<2 {
                try await BinaryMount.with(server: server, home: home.path) { mount in
                    let times = try await mount.tool(["sh", "-c", "cd \"$1\"/all && stat -c '%n %Y %s' *", "sh", mount.mountpoint])
                    #expect(times.succeeded)
                    let lines = videoLines(times.stdout).sorted()
                    #expect(lines.count == 2)
                    let counts = try await ServerHarness.poll("both thumbnails made or found", within: .seconds(30)) { () -> [String: Int]? in
                        let counts = try await mount.status()["thumbnails"] as? [String: Int] ?? [:]
                        return (counts["written"] ?? 0) + (counts["current"] ?? 0) >= 2 ? counts : nil
                    }
                    if round == 0 {
                        first = lines
                        #expect(counts["written"] == 2)
                    } else {
                        #expect(lines == first, "the same names, mtimes and sizes")
                        #expect(counts["written"] == 0 && counts["current"] == 2, "\(counts)")
                    }
                }
            }
        }
    }

    @Test("--no-thumbnails and thumbnails = false write none, and status shows none")
    func turnedOff() async throws {
        try await withUploads { server in
            for (arguments, config) in [(["--no-thumbnails"], nil), ([], "thumbnails = false\n")] as [([String], String?)] {
                try await BinaryMount.with(server: server, arguments: arguments, config: config) { mount in
                    let listed = try await mount.tool(["ls", mount.mountpoint + "/all"])
                    #expect(listed.succeeded && videoLines(listed.stdout).count == 2)
                    // Each cover read through the mount: what the thumbnail writer would fetch first.
                    let covers = try await mount.tool(["sh", "-c", "cat \"$1\"/.covers/*.jpg | wc -c", "sh", mount.mountpoint])
                    #expect((Int(covers.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 0)
                    let status = try await mount.status()
                    #expect(status["thumbnails"] == nil, "\(arguments) \(config ?? "")")
                    #expect(!FileManager.default.fileExists(atPath: mount.home + "/cache/thumbnails"))
                }
            }
        }
    }

    @Test("sidecars beside each processed video by default; --no-subtitles and subtitles = false list the videos alone; a folder of more videos than --sidecar-listing-limit (or sidecar_listing_limit) lists none, and they still open by name")
    func subtitlesSetting() async throws {
        try await withUploads { server in
            // (arguments, settings file, sidecars listed, sidecars found by name)
            for (arguments, config, listed, found) in [
                ([], nil, true, true), (["--no-subtitles"], nil, false, false), ([], "subtitles = false\n", false, false),
                (["--sidecar-listing-limit", "1"], nil, false, true), ([], "sidecar_listing_limit = 1\n", false, true),
                (["--sidecar-listing-limit", "2"], nil, true, true),
            ] as [([String], String?, Bool, Bool)] {
                try await BinaryMount.with(server: server, arguments: arguments, config: config) { mount in
                    let listing = try await mount.tool(["ls", mount.mountpoint + "/all"])
                    let names = listing.stdout.split(separator: "\n").map(String.init)
                    let videos = videoLines(listing.stdout)
                    #expect(listing.succeeded && videos.count == 2, "\(listing.stdout)\(listing.stderr)")
                    #expect(names.filter { $0.hasSuffix(".srt") }.count == (listed ? 2 : 0), "\(arguments) \(config ?? ""): \(names)")
                    for video in videos {
                        let sidecar = mount.mountpoint + "/all/" + video.replacingOccurrences(of: ".mp4", with: ".srt")
                        let looked = try await mount.tool(["stat", "-c", "%s", sidecar])
                        #expect(looked.succeeded == found, "\(arguments) \(config ?? ""): \(sidecar): \(looked.stderr)")
                    }
                }
            }
        }
    }
}
