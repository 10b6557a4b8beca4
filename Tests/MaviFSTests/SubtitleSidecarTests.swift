import Foundation
import Glibc
import MaviAPI
import MaviClient
import MaviLibrary
import MaviServer
import Testing
import TestSupport

@Suite("Subtitle sidecars on a real mount", .timeLimit(.minutes(5)))
struct SubtitleSidecarTests {
    /// The subtitle track `index` of a video file as SRT, as ffmpeg extracts it.
    private func track(_ index: Int, of file: String) async throws -> [UInt8] {
        let r = try await run(["ffmpeg", "-v", "error", "-nostdin", "-i", file, "-map", "0:s:\(index)", "-f", "srt", "-"])
        #expect(r.succeeded, "\(r.stderr)")
        return r.stdoutBytes
    }

    private func names(_ mount: SearchMount, _ folder: String) async throws -> Set<String> {
        Set(try await mount.readdirOrder(folder))
    }

    @Test("NAME.srt beside each processed video: listed without a request, fetched once on first read, the subtitle track's bytes; captions once known; none for a video without speech")
    func sidecars() async throws {
        try await SearchMount.with { mount in
            let beach = try #require(mount.videos["dog on the beach"])
            let beachSource = try #require(mount.sources[beach])
            let transcripts: @Sendable () -> Int = { mount.server.server.stats().requests(.getAudioTranscription) }
            let captions: @Sendable () -> Int = { mount.server.server.stats().requests(.getVideoCaption) }

            let listed = try await run(["ls", "-l", mount.path("all")])
            #expect(listed.succeeded, "\(listed.stderr)")
            let all = try await names(mount, "all")
            #expect(all.isSuperset(of: ["dog on the beach.mp4", "dog on the beach.srt", "harbour walk.srt", "silent.srt"]), "\(all)")
            #expect(!all.contains("dog on the beach.captions.srt"), "captions are not known yet")
            #expect(transcripts() == 0 && captions() == 0, "ls -l costs no request per file")

            let sidecar = mount.path("all/dog on the beach.srt")
            let unfetched = try await statOf(sidecar)
            #expect(unfetched.st_size == 0 && transcripts() == 0, "looking one up costs no request either")
            let expected = try await track(0, of: beachSource)
            #expect(!expected.isEmpty)
            let read = try await run(["cat", sidecar])
            #expect(read.succeeded && read.stdoutBytes == expected, "\(read.stdout)")
            #expect(transcripts() == 1)
            #expect(try await statOf(sidecar).st_size == off_t(expected.count), "the size is known once fetched")
            #expect(FileManager.default.fileExists(atPath: mount.subtitleDirectory + "/\(beach).srt"), "kept in the cache folder")
            #expect(try await run(["cat", sidecar]).stdoutBytes == expected)
            #expect(try await statOf(mount.path("by-id/\(beach).srt")).st_ino == (try await statOf(sidecar)).st_ino, "one file in every view")
            #expect(transcripts() == 1, "fetched once")

            // Captions are asked right after the speech, and show once known.
            try await waitUntil("the captions sidecar to show", timeout: 20, interval: 0.2) {
                (try? await names(mount, "all"))?.contains("dog on the beach.captions.srt") ?? false
            }
            let captionsRead = try await run(["cat", mount.path("all/dog on the beach.captions.srt")])
            #expect(captionsRead.stdoutBytes == (try await track(1, of: beachSource)))

            // ffprobe reads the sidecar as subtitles, through the mount, beside its video.
            let probe = try await run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", sidecar])
            #expect(probe.succeeded && probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "subrip", "\(probe.stdout)\(probe.stderr)")
            let pair = try await run([
                "ffmpeg", "-v", "error", "-nostdin", "-i", mount.path("all/dog on the beach.mp4"), "-i", sidecar,
                "-map", "1:s", "-f", "srt", "-",
            ])
            #expect(pair.succeeded && pair.stdoutBytes == expected, "\(pair.stderr)")

            // A video without speech: its sidecar is gone once that is known, from every folder,
            // those listed before included.
            let silentNo = try #require(mount.videos["silent"])
            #expect(try await names(mount, "by-id").contains("\(silentNo).srt"))
            let silent = try await run(["cat", mount.path("all/silent.srt")])
            #expect(!silent.succeeded && silent.stderr.contains("No such file"), "\(silent.stderr)")
            let after = try await names(mount, "all")
            #expect(!after.contains("silent.srt") && after.contains("silent.mp4") && after.contains("dog on the beach.srt"), "\(after)")
            let byID = try await names(mount, "by-id")
            #expect(!byID.contains("\(silentNo).srt") && byID.contains("\(silentNo).mp4"), "\(byID)")
            await #expect(throws: Errno(code: ENOENT)) { _ = try await statOf(mount.path("by-id/\(silentNo).srt")) }
            // One subtitle track: no captions, looked up by name or not.
            try await waitUntil("harbour walk's captions to be asked", timeout: 20, interval: 0.2) { captions() >= 1 }
            _ = try await run(["cat", mount.path("all/harbour walk.srt")])
            try await waitUntil("harbour walk's captions to be asked", timeout: 20, interval: 0.2) { captions() >= 2 }
            await #expect(throws: Errno(code: ENOENT)) { _ = try await statOf(mount.path("all/harbour walk.captions.srt")) }
            #expect(try await run(["rm", "-f", sidecar]).succeeded == false, "a sidecar goes with its video")
        }
    }

    @Test("where rm deletes videos, rm of a sidecar fails and deletes nothing: the video stays listed, on the server and out of the journal")
    func removingASidecarDeletesNothing() async throws {
        try await SearchMount.with(allowDelete: true) { mount in
            let beach = try #require(mount.videos["dog on the beach"])
            let deletes = try #require(mount.deletes)
            #expect(try await names(mount, "all").contains("dog on the beach.srt"))
            let removed = try await run(["rm", mount.path("all/dog on the beach.srt")])
            #expect(!removed.succeeded && removed.stderr.contains("Operation not permitted"), "\(removed.stderr)")
            #expect(!deletes.isPending(beach) && deletes.stats().pending == 0)
            let after = try await names(mount, "all")
            #expect(after.contains("dog on the beach.mp4") && after.contains("dog on the beach.srt"), "\(after)")
            #expect(try await mount.client.allVideos(filter: VideoFilter(videoNos: [beach])).count == 1)
            // The same mount deletes a video when asked: the refusal above was the sidecar's.
            let silent = try #require(mount.videos["silent"])
            #expect(try await run(["rm", mount.path("all/silent.mp4")]).succeeded)
            #expect(deletes.isPending(silent) || deletes.stats().confirmed == 1)
        }
    }

    @Test("`clip.captions.mp4` beside `clip.mp4`: `clip.captions.srt` is the speech of the video called so, listed once, and clip.mp4's captions are not shown under its name")
    func captionsNameOfAnotherVideosSpeech() async throws {
        let beach = try await SubtitledVideos.beach()
        try await SearchMount.with(more: [("clip", beach), ("clip.captions", beach)]) { mount in
            let clip = try #require(mount.videos["clip"])
            // clip.mp4's speech, then its captions (asked right after), which it has.
            #expect(try await run(["cat", mount.path("all/clip.srt")]).succeeded)
            try await waitUntil("clip's captions to be kept", timeout: 20, interval: 0.2) {
                FileManager.default.fileExists(atPath: mount.subtitleDirectory + "/\(clip).captions.srt")
            }
            let listed = try await mount.readdirOrder("all")
            #expect(listed.filter { $0 == "clip.captions.srt" }.count == 1, "\(listed)")
            let sidecar = try await statOf(mount.path("all/clip.captions.srt"))
            let video = try await statOf(mount.path("all/clip.captions.mp4"))
            #expect(sidecar.st_ino == video.st_ino + 2, "the speech sidecar of clip.captions.mp4")
            let read = try await run(["cat", mount.path("all/clip.captions.srt")])
            let speech = try await track(0, of: beach)
            #expect(read.succeeded && read.stdoutBytes == speech, "speech, not clip.mp4's captions: \(read.stdout)")
        }
    }

    @Test("a search folder's hits have their sidecars too")
    func inSearchFolders() async throws {
        try await SearchMount.with { mount in
            let names = try await names(mount, "search/quick brown fox")
            #expect(names == ["01 dog on the beach.mp4", "01 dog on the beach.srt", "02 harbour walk.mp4", "02 harbour walk.srt", "hits.m3u"])
            let beach = try #require(mount.videos["dog on the beach"])
            let beachSource = try #require(mount.sources[beach])
            let read = try await run(["cat", mount.path("search/quick brown fox/01 dog on the beach.srt")])
            #expect(read.stdoutBytes == (try await track(0, of: beachSource)))
        }
    }

    @Test("a folder of more videos than the listing limit lists no sidecars, and they still open by name; a folder of as many videos as the limit lists them")
    func listingLimit() async throws {
        try await SearchMount.with(sidecarListingLimit: 2) { mount in
            let all = try await names(mount, "all")
            #expect(all.count == 4 && all.allSatisfy { $0.hasSuffix(".mp4") }, "4 videos, more than 2: \(all)")
            let beach = try #require(mount.videos["dog on the beach"])
            let beachSource = try #require(mount.sources[beach])
            let expected = try await track(0, of: beachSource)
            let read = try await run(["cat", mount.path("all/dog on the beach.srt")])
            #expect(read.succeeded && !expected.isEmpty && read.stdoutBytes == expected, "\(read.stderr)")
            // 2 hits and a playlist: as many videos as the limit, so their sidecars are listed.
            let hits = try await names(mount, "search/quick brown fox")
            #expect(hits == ["01 dog on the beach.mp4", "01 dog on the beach.srt", "02 harbour walk.mp4", "02 harbour walk.srt", "hits.m3u"])
            let again = try await names(mount, "all")
            #expect(again == all, "reading a sidecar does not list it")
        }
    }

    @Test("while the server does not answer, a sidecar not fetched yet fails with EIO within the metadata deadline; one fetched before still reads")
    func serverDown() async throws {
        try await SearchMount.with(metadataTimeout: .seconds(2)) { mount in
            let fetched = mount.path("all/dog on the beach.srt")
            let before = try await run(["cat", fetched])
            #expect(before.succeeded && !before.stdoutBytes.isEmpty)
            mount.server.server.setFaults(FaultSettings(hang: true, endpoints: [.getAudioTranscription, .getVideoCaption]))
            let started = ContinuousClock.now
            let failed = try await run(["cat", mount.path("all/harbour walk.srt")], timeout: 30)
            let elapsed = ContinuousClock.now - started
            #expect(!failed.succeeded && failed.stderr.contains("Input/output error"), "\(failed.stderr)")
            #expect(elapsed < .seconds(6), "cat took \(elapsed)")
            #expect(try await run(["cat", fetched]).stdoutBytes == before.stdoutBytes, "kept in the cache folder")
            mount.server.server.setFaults(FaultSettings())
            try await waitUntil("the sidecar to read once the server answers", timeout: 30, interval: 0.5) {
                (try? await run(["cat", mount.path("all/harbour walk.srt")]))?.succeeded ?? false
            }
        }
    }
}
