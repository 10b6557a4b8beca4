import Foundation
import Glibc
import MaviAPI
import MaviServer
import Testing
import TestSupport

@Suite("search/ on a real mount", .timeLimit(.minutes(5)))
struct SearchFolderTests {
    @Test("a search folder: its hits best first, the same files as by-id, clip xattrs, a playlist; one request per TTL")
    func hits() async throws {
        try await SearchMount.with { mount in
            let beach = try #require(mount.videos["dog on the beach"]), harbour = try #require(mount.videos["harbour walk"])
            #expect(try await mount.readdirOrder("search") == ["said"], "nothing searched yet")
            #expect(mount.searchRequests == 0)

            let folder = "search/quick brown fox"
            let names = try await mount.readdirWithoutSidecars(folder)
            #expect(names == ["01 dog on the beach.mp4", "02 harbour walk.mp4", "hits.m3u"])
            #expect(mount.searchRequests == 1)
            // `ls` sorts by name: the rank keeps it best first.
            let sorted = try await run(["ls", "-1", mount.path(folder)])
            #expect(sorted.stdout.split(separator: "\n").map(String.init).filter { !$0.hasSuffix(".srt") } == names)

            // The same file as by-id: same inode, same bytes.
            let hit = try await statOf(mount.path(folder + "/01 dog on the beach.mp4"))
            let byID = try await statOf(mount.path("by-id/\(beach).mp4"))
            #expect(hit.st_ino == byID.st_ino && hit.st_size == byID.st_size && hit.st_size > 0)
            let cmp = try await run(["cmp", mount.path(folder + "/01 dog on the beach.mp4"), try #require(mount.sources[beach])])
            #expect(cmp.succeeded, "\(cmp.stdout)\(cmp.stderr)")

            let first = mount.path(folder + "/01 dog on the beach.mp4")
            let second = mount.path(folder + "/02 harbour walk.mp4")
            let (a, b) = try await blocking { (try searchAttributes(first), try searchAttributes(second)) }
            #expect(a["query"] == "quick brown fox" && a["score"] == "1.000" && a["start"] == "1" && a["end"] == "2.5")
            #expect(a["clips"] == "1-2.5 1.000" && a["video_no"] == beach, "\(a)")
            #expect(b["score"] == "0.267" && b["video_no"] == harbour, "\(b)")

            let playlistPath = mount.path(folder + "/hits.m3u")
            let playlist = try await blocking { try String(contentsOfFile: playlistPath, encoding: .utf8) }
            let lines = playlist.split(separator: "\n").map(String.init)
            #expect(lines.first == "#EXTM3U")
            #expect(lines.contains("#EXTVLCOPT:start-time=1") && lines.contains("#EXTVLCOPT:stop-time=2.5"))
            #expect(lines.contains("#EXTVLCOPT:start-time=0.5"))
            #expect(lines.filter { !$0.hasPrefix("#") } == ["01 dog on the beach.mp4", "02 harbour walk.mp4"], "entries relative to the playlist")
            #expect(try await statOf(playlistPath).st_size == off_t(playlist.utf8.count))
            // ffprobe reads a hit through the mount.
            let probe = try await run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", first])
            #expect(probe.succeeded && probe.stdout.hasPrefix("3"), "\(probe.stderr)")

            // Within the time to live: no request, whatever is listed or looked up again.
            _ = try await mount.readdirWithoutSidecars(folder)
            _ = try await statOf(playlistPath)
            #expect(mount.searchRequests == 1)
            #expect(try await mount.readdirOrder("search") == ["said", "quick brown fox"], "the searches of this mount")

            // Past it (on the search's clock), the next listing searches again, once.
            mount.clock.advance(by: mount.options.listTTL + .seconds(1))
            _ = try await mount.readdirWithoutSidecars(folder)
            _ = try await mount.readdirWithoutSidecars(folder)
            #expect(mount.searchRequests == 2)
        }
    }

    @Test("said/: the exact phrase, newest first; hidden names are no search; odd and long names; no hit is a folder with an empty playlist")
    func phraseAndNames() async throws {
        try await SearchMount.with { mount in
            let harbour = try #require(mount.videos["harbour walk"])
            let said = try await mount.readdirWithoutSidecars("search/said/brown")
            #expect(said == ["01 harbour walk.mp4", "02 dog on the beach.mp4", "hits.m3u"])
            #expect(mount.phraseRequests == 1 && mount.searchRequests == 0)
            let harbourHit = mount.path("search/said/brown/01 harbour walk.mp4")
            let said1 = try await blocking { try searchAttributes(harbourHit) }
            #expect(said1["video_no"] == harbour && said1["start"] == "0.5" && said1["kind"] == "phrase" && said1["score"] == nil, "\(said1)")
            #expect(try await mount.readdirWithoutSidecars("search/said/fox brown") == ["hits.m3u"], "words out of order are not the phrase")
            #expect(try await mount.readdirWithoutSidecars("search/said") == ["brown", "fox brown"])

            // Shells and file managers look for hidden names everywhere: none is a search.
            await #expect(throws: Errno(code: ENOENT)) { _ = try await statOf(mount.path("search/.hidden")) }
            await #expect(throws: Errno(code: ENOENT)) { _ = try await statOf(mount.path("search/said/.directory")) }
            #expect(mount.searchRequests == 0)

            // Unicode, and a name of 255 bytes, are searches like any other.
            let unicodeNames = try await mount.readdirWithoutSidecars("search/Brûlée ☕ brown")
            #expect(unicodeNames.count == 3 && unicodeNames.last == "hits.m3u", "\(unicodeNames)")
            let long = "tide " + String(repeating: "x", count: 250)
            #expect(long.utf8.count == 255)
            let longNames = try await mount.readdirWithoutSidecars("search/" + long)
            #expect(longNames.count == 2 && longNames.last == "hits.m3u", "\(longNames)")
            // The long-named video's hit keeps its extension within 255 bytes.
            let longHit = try #require(longNames.first)
            #expect(longHit.hasPrefix("01 tide éé") && longHit.utf8.count <= 255 && longHit.hasSuffix(".mp4"))
            let longStat = try await statOf(mount.path("search/" + long + "/" + longHit))
            let longID = try #require(mount.videos[SearchMount.longName])
            let longByID = try await statOf(mount.path("by-id/\(longID).mp4"))
            #expect(longStat.st_ino == longByID.st_ino)
            #expect(mount.searchRequests == 2)
            #expect(try await mount.readdirWithoutSidecars("search/zebra") == ["hits.m3u"])
        }
    }

    @Test("a search while the server does not answer fails with EIO within the metadata deadline, and works once it answers")
    func serverDown() async throws {
        try await SearchMount.with(metadataTimeout: .seconds(2)) { mount in
            mount.server.server.setFaults(FaultSettings(hang: true, endpoints: [.search, .searchAudioTranscripts]))
            for folder in ["search/quick brown fox", "search/said/brown"] {
                let started = ContinuousClock.now
                let r = try await run(["ls", mount.path(folder)], timeout: 30)
                let elapsed = ContinuousClock.now - started
                #expect(!r.succeeded && r.stderr.contains("Input/output error"), "\(r.stderr)")
                #expect(elapsed < .seconds(6), "ls took \(elapsed)")
            }
            mount.server.server.setFaults(FaultSettings())
            try await waitUntil("the search to work again", timeout: 30, interval: 0.5) {
                (try? await mount.readdirWithoutSidecars("search/quick brown fox"))?.first == "01 dog on the beach.mp4"
            }
        }
    }
}

/// An errno from a syscall.
struct Errno: Error, Equatable {
    let code: Int32
}

/// `stat(2)` of a path through the kernel, on a thread of its own (the mount answers from this
/// process), throwing its errno.
func statOf(_ path: String) async throws -> stat {
    try await blocking {
        var st = stat()
        guard stat(path, &st) == 0 else { throw Errno(code: errno) }
        return st
    }
}

/// The video number and `user.mavi.search.*` attributes of a file, by their short names (a
/// blocking call: use inside `blocking`).
func searchAttributes(_ path: String) throws -> [String: String] {
    var found: [String: String] = ["video_no": try xattr(path, "user.mavi.video_no")]
    for name in ["query", "kind", "score", "start", "end", "clips"] {
        if let value = try? xattr(path, "user.mavi.search." + name) { found[name] = value }
    }
    return found
}
