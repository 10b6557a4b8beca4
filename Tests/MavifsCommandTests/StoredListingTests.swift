import Foundation
import MaviAPI
import MaviClient
import MaviServer
import Testing
import TestSupport

/// The listing a mount stores for the next one: shown at once, even when the server does not
/// answer, said to be stale until refreshed, and never served from a damaged file.
@Suite("The stored listing on a real mount", .serialized, .timeLimit(.minutes(5)))
struct StoredListingTests {
    @Test("a remount with the server silent shows the stored listing at once, with the same names, and says it is stored; a damaged store is made again")
    func remountServesStoredListing() async throws {
        try await MountFixture.with(videoCount: 60, videoSize: 0) { fixture in
            let mnt = try fixture.directory("mnt")
            let cache = fixture.work + "/cache"
            func names() async throws -> [String] {
                try await run(["ls", mnt + "/all"], timeout: 60).stdout.split(separator: "\n").map(String.init).filter { !$0.hasSuffix(".srt") }
            }
            @Sendable func status() async throws -> [String: Any] {
                let result = try await run([fixture.binary, "status", "--json", mnt], timeout: 30, environment: fixture.environment)
                return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
            }

            func parsed() async throws -> [String] {
                try await run(["ls", mnt + "/by-status/PARSE"], timeout: 60).stdout.split(separator: "\n").map(String.init).filter { !$0.hasSuffix(".srt") }
            }

            var mount = try await fixture.mount(mnt, cache: cache)
            let before: [String]
            let parsedBefore: [String]
            do {
                before = try await names()
                #expect(before.count == 60)
                parsedBefore = try await parsed()
                #expect(!parsedBefore.isEmpty)
                try await waitUntil("the listing to be stored", timeout: 30) {
                    let folder = cache + "/listings"
                    return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).contains { $0.hasSuffix(".sqlite") }
                }
            } catch {
                await fixture.unmount(mount, mnt)
                throw error
            }
            await fixture.unmount(mount, mnt)

            // The server stops answering listings: the next mount still comes up, at once.
            fixture.server.server.setFaults(FaultSettings(hang: true, endpoints: [.listVideos]))
            let start = ContinuousClock.now
            mount = try await fixture.mount(mnt, cache: cache)
            do {
                let after = try await names()
                let seconds = elapsedSeconds(since: start)
                #expect(after == before, "the same names, in the same order")
                #expect(try await parsed() == parsedBefore, "a view shows its last answer")
                #expect(seconds < 10, "mounted and listed in \(seconds) s with the server silent")
                let stored = try await status()
                #expect(stored["listing_stored"] as? Bool == true, "\(stored)")

                // The server answers again: the first refresh lands and the listing is current.
                fixture.server.server.setFaults(FaultSettings())
                try await waitUntil("the first refresh", timeout: 60) { try await status()["listing_stored"] as? Bool == false }
                #expect(try await names() == before)
                reportFigure("stored listing", String(format: "remount with the server silent: mounted and listed 60 videos in %.2f s", seconds))
            } catch {
                fixture.server.server.setFaults(FaultSettings())
                await fixture.unmount(mount, mnt)
                throw error
            }
            await fixture.unmount(mount, mnt)

            // A damaged store is made again from the server, never served.
            let folder = cache + "/listings"
            for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name.hasSuffix(".sqlite") {
                try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: folder + "/" + name))
            }
            mount = try await fixture.mount(mnt, cache: cache)
            do {
                #expect(try await names() == before)
                #expect(try await status()["listing_stored"] as? Bool == false)
            } catch {
                await fixture.unmount(mount, mnt)
                throw error
            }
            await fixture.unmount(mount, mnt)
        }
    }

    @Test("a refresh reads only what changed: one call while nothing did; an upload, a delete made elsewhere and a video processed show within the time to live; names survive a remount")
    func incrementalRefresh() async throws {
        try await MountFixture.with(videoCount: 20, videoSize: 0, configure: { $0.processingDelay = .seconds(8) }) { fixture in
            let mnt = try fixture.directory("mnt")
            let cache = fixture.work + "/cache"
            let ttl = 2.0
            let server = fixture.server.server
            func names() async throws -> [String] {
                try await run(["ls", mnt + "/all"], timeout: 60).stdout.split(separator: "\n").map(String.init).filter { !$0.hasSuffix(".srt") }
            }
            func refreshes() async throws -> [String: Any] {
                let result = try await run([fixture.binary, "status", "--json", mnt], timeout: 30, environment: fixture.environment)
                let status = (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
                return status["listing_refreshes"] as? [String: Any] ?? [:]
            }
            func listCalls() -> Int { server.stats().requests(.listVideos) }
            /// The names once the listing has outlived its time to live and been fetched again.
            func namesAfterRefresh() async throws -> [String] {
                try await Task.sleep(for: .seconds(ttl + 0.3))
                return try await names()
            }
            func status(of name: String) async throws -> String {
                let result = try await run(["getfattr", "--only-values", "-n", "user.mavi.status", mnt + "/all/" + name], timeout: 20)
                return result.status == 0 ? result.stdout : "getfattr failed: \(result.stderr)"
            }

            var mount = try await fixture.mount(mnt, cache: cache, ["--list-ttl", String(Int(ttl))])
            var last: [String] = []
            do {
                let first = try await names()
                #expect(first.count == 20)

                // Nothing changed: each refresh is one page from the top.
                let callsBefore = listCalls()
                let before = try await refreshes()["incremental"] as? Int ?? 0
                #expect(try await namesAfterRefresh() == first)
                #expect(try await namesAfterRefresh() == first)
                let after = try await refreshes()
                let made = (after["incremental"] as? Int ?? 0) - before
                #expect(made >= 2, "\(after)")
                #expect(listCalls() - callsBefore == made, "one list call per refresh of an unchanged library")
                #expect(after["last_calls"] as? Int == 1)

                // An upload made elsewhere shows, still processing.
                let file = try await VideoFixtures.sharedMP4()
                let upload = try await run([fixture.binary, "upload", "--endpoint", fixture.server.baseURL, file], timeout: 60, environment: fixture.environment)
                #expect(upload.status == 0, "\(upload.stderr)")
                let withUpload = try await namesAfterRefresh()
                let added = Set(withUpload).subtracting(first)
                #expect(withUpload.count == 21 && added.count == 1, "\(withUpload)")
                let uploaded = try #require(added.first)
                // Processing takes the server 8 s: the mount saw the video before.
                #expect(try await status(of: uploaded) == "UNPARSE")
                #expect(try await refreshes()["last_calls"] as? Int == 1, "the new video is on the first page")

                // Processed on the server: the refresh asks for it by id and sees the new status.
                try await waitUntil("the upload to be processed", timeout: 60) {
                    let configuration = ClientConfiguration(
                        endpoint: URL(string: fixture.server.baseURL)!, apiKey: try APIKey(fixture.server.apiKey), pacing: .unlimited)
                    return try await MaviClient.withClient(configuration: configuration) { client in
                        try await client.listVideos(filter: VideoFilter(status: .unparsed)).totalCount == 0
                    }
                }
                _ = try await namesAfterRefresh()
                #expect(try await status(of: uploaded) == "PARSE")
                #expect(try await refreshes()["last_calls"] as? Int == 1, "the video is on the first page, read again")

                // Deleted elsewhere: the counts disagree and the listing is fetched whole.
                let gone = fixture.videos[7].videoNo
                let configuration = ClientConfiguration(
                    endpoint: URL(string: fixture.server.baseURL)!, apiKey: try APIKey(fixture.server.apiKey), pacing: .unlimited)
                let wholeBefore = try await refreshes()["whole"] as? Int ?? 0
                try await MaviClient.withClient(configuration: configuration) { client in try await client.deleteVideos([gone]) }
                let afterDelete = try await namesAfterRefresh()
                #expect(afterDelete.count == 20 && afterDelete.contains(uploaded))
                let whole = try await refreshes()
                // Where the top pages cover it, the gap shows there; deeper, the counts disagree.
                #expect(whole["whole"] as? Int == wholeBefore + 1, "\(whole)")
                #expect((whole["last_whole_reason"] as? String)?.contains("missing") == true, "\(whole)")
                last = afterDelete
            } catch {
                await fixture.unmount(mount, mnt)
                throw error
            }
            await fixture.unmount(mount, mnt)

            // The next mount shows the same names, from the store, and its first refresh keeps them.
            mount = try await fixture.mount(mnt, cache: cache, ["--list-ttl", String(Int(ttl))])
            do {
                #expect(try await names() == last)
                #expect(try await namesAfterRefresh() == last)
            } catch {
                await fixture.unmount(mount, mnt)
                throw error
            }
            await fixture.unmount(mount, mnt)
        }
    }
}
