import Foundation
import Logging
import MaviAPI
import MaviClient
import MaviServer
import Synchronization
import Testing
import TestSupport

/// `rm` over many files of a real mount, against a server with the documented limits on (5
/// deletes a second, 100 ids a call): batched behind the journal, and never lost by a crash.
@Suite("Bulk deletes on a real mount", .serialized, .timeLimit(.minutes(6)))
struct BulkDeleteTests {
    /// The video numbers the server lists, asked with the server's own key (large pages: the
    /// list limit, 5 a second, is shared with the mount).
    static func listed(_ fixture: MountFixture) async throws -> Set<String> {
        try await withClient(fixture) { Set(try await $0.allVideos(size: APILimits.largeListPageSize).map(\.videoNo)) }
    }

    /// How many videos the server lists: one call.
    static func count(_ fixture: MountFixture) async throws -> Int {
        try await withClient(fixture) { Int(try await $0.listVideos(page: 1, size: 1).totalCount) }
    }

    static func withClient<T: Sendable>(_ fixture: MountFixture, _ body: (MaviClient) async throws -> T) async throws -> T {
        let configuration = ClientConfiguration(
            endpoint: URL(string: fixture.server.baseURL)!, apiKey: try APIKey(fixture.server.apiKey))
        return try await MaviClient.withClient(configuration: configuration, logger: Logger(label: "mavifs.test.list"), body)
    }

    static func paths(_ videoNos: [String], in mnt: String) -> String {
        videoNos.map { "\(mnt)/by-id/\($0).mp4" }.joined(separator: "\n") + "\n"
    }

    @Test("rm of 300 files goes to the server in a handful of calls of up to 100 ids, and deletes those 300 only")
    func batchedDeletes() async throws {
        try await MountFixture.with(videoCount: 400, videoSize: 0, rateLimits: true) { fixture in
            let mnt = try fixture.directory("mnt")
            let mount = try await fixture.mount(mnt, cache: fixture.work + "/cache", ["--allow-delete"], pacing: true)
            do {
                let all = fixture.videos.map(\.videoNo).sorted()
                let doomed = Array(all.prefix(300))
                let list = fixture.work + "/doomed.txt"
                try Self.paths(doomed, in: mnt).write(toFile: list, atomically: true, encoding: .utf8)
                _ = try await run(["ls", mnt + "/by-id"], timeout: 60)
                fixture.server.server.resetStats()

                let start = ContinuousClock.now
                let rm = try await run(["sh", "-c", "xargs -d '\\n' -a \"$0\" rm --", list], timeout: 120)
                let rmSeconds = elapsedSeconds(since: start)
                #expect(rm.status == 0, "\(rm.stderr)")
                let left = try await run(["ls", mnt + "/by-id"], timeout: 60)
                #expect(left.stdout.split(separator: "\n").filter { !$0.hasSuffix(".srt") }.count == 100, "the views lose them at once")

                try await waitUntil("the server to have deleted them", timeout: 60, interval: 0.05) {
                    try await Self.count(fixture) == 100
                }
                let allSeconds = elapsedSeconds(since: start)
                #expect(try await Self.listed(fixture) == Set(all.suffix(100)), "exactly the 300 asked for")
                let calls = fixture.server.server.stats().requests[Endpoint.deleteVideos.rawValue] ?? 0
                // What mavifs status says of them.
                let status = try await run([fixture.binary, "status", "--json", mnt], timeout: 30, environment: fixture.environment)
                let object = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
                let deletes = object?["deletes"] as? [String: Any]
                #expect(deletes?["confirmed"] as? Int == 300 && deletes?["pending"] as? Int == 0, "\(status.stdout)")
                #expect(deletes?["calls"] as? Int == calls, "\(status.stdout)")
                let text = try await run([fixture.binary, "status", mnt], timeout: 30, environment: fixture.environment)
                #expect(text.stdout.contains("0 pending, 300 confirmed by the server"), "\(text.stdout)")
                // Full calls of 100 where rm is quicker than the pace; at worst one call per
                // 210 ms while rm runs (a slow machine), plus the last.
                #expect(calls >= 3 && Double(calls) <= max(8, rmSeconds / 0.21 + 3), "\(calls) calls in \(rmSeconds) s")
                reportFigure("bulk delete", String(
                    format: "rm of 300 files: rm returned after %.2f s, the server had them all after %.2f s, %d calls", rmSeconds, allSeconds, calls))
            } catch {
                await fixture.unmount(mount, mnt)
                throw error
            }
            await fixture.unmount(mount, mnt)
        }
    }

    @Test("SIGKILL while rm runs and the server does not answer: the next mount deletes what rm said it did, and nothing else")
    func killDuringDeletes() async throws {
        try await MountFixture.with(videoCount: 200, videoSize: 0, rateLimits: true) { fixture in
            let mnt = try fixture.directory("mnt")
            let cache = fixture.work + "/cache"
            var mount = try await fixture.mount(mnt, cache: cache, ["--allow-delete"], pacing: true)
            let all = fixture.videos.map(\.videoNo).sorted()
            let list = fixture.work + "/all.txt"
            let done = fixture.work + "/done.txt", failed = fixture.work + "/failed.txt"
            do {
                try Self.paths(all, in: mnt).write(toFile: list, atomically: true, encoding: .utf8)
                _ = try await run(["ls", mnt + "/by-id"], timeout: 60)
                // Nothing is confirmed before the kill: only the journal can carry the deletes over.
                fixture.server.server.setFaults(FaultSettings(hang: true, endpoints: [.deleteVideos]))
                let script = "while IFS= read -r f; do if rm -- \"$f\" 2>/dev/null; then echo \"$f\" >>\"$1\"; else echo \"$f\" >>\"$2\"; fi; done <\"$0\""
                let remover = Task { try await run(["sh", "-c", script, list, done, failed], timeout: 120) }
                try await waitUntil("80 files removed", timeout: 60, interval: 0.01) {
                    ((try? String(contentsOfFile: done, encoding: .utf8)) ?? "").split(separator: "\n").count >= 80
                }
                mount.signal(SIGKILL)
                #expect(await mount.wait(timeout: 20) == 128 + SIGKILL)
                _ = try await remover.value
            } catch {
                await fixture.unmount(mount, mnt)
                throw error
            }
            fixture.server.server.setFaults(FaultSettings())
            let removed = Set(((try? String(contentsOfFile: done, encoding: .utf8)) ?? "").split(separator: "\n").map {
                (String($0) as NSString).lastPathComponent.replacingOccurrences(of: ".mp4", with: "")
            })
            let firstFailure = ((try? String(contentsOfFile: failed, encoding: .utf8)) ?? "").split(separator: "\n").first.map {
                (String($0) as NSString).lastPathComponent.replacingOccurrences(of: ".mp4", with: "")
            }
            #expect(removed.count >= 80)
            #expect(try await Self.count(fixture) == 200, "nothing reached the server before the kill")

            // A crash while the journal was written leaves a torn last record.
            let journals = try FileManager.default.contentsOfDirectory(atPath: cache + "/deletes").filter { $0.hasSuffix(".default.journal") }
            #expect(journals.count == 1, "\(journals)")
            let journal = cache + "/deletes/" + (journals.first ?? "")
            let handle = try #require(FileHandle(forWritingAtPath: journal))
            handle.seekToEndOfFile()
            handle.write(Data([0x20, 0, 0, 0, 1, 2]))
            try handle.close()

            // The next mount, even without --allow-delete, sends what was recorded.
            mount = try await fixture.mount(mnt, cache: cache, pacing: true)
            do {
                try await waitUntil("the recorded deletes to reach the server", timeout: 60, interval: 0.05) {
                    try await Self.count(fixture) <= 200 - removed.count
                }
                // Until nothing changes for a second (a last batch may still be on its way).
                let last = Mutex(-1)
                try await waitUntil("the deletes to settle", timeout: 60, interval: 1) {
                    let now = try await Self.count(fixture)
                    return last.withLock { last in
                        defer { last = now }
                        return now == last
                    }
                }
                let deleted = Set(all).subtracting(try await Self.listed(fixture))
                // Every rm that succeeded is deleted. The only other one that may be is the file
                // whose rm the kill interrupted after its delete was recorded.
                #expect(removed.isSubset(of: deleted))
                #expect(deleted.subtracting(removed).isSubset(of: Set([firstFailure].compactMap { $0 })), "\(deleted.subtracting(removed))")
                #expect(mount.stderr.contains("torn"), "\(mount.stderr)")
                let names = try await run(["ls", mnt + "/by-id"], timeout: 60).stdout.split(separator: "\n").filter { !$0.hasSuffix(".srt") }
                #expect(names.count == 200 - deleted.count)
                reportFigure("bulk delete", "SIGKILL after \(removed.count) rm: the next mount deleted \(deleted.count) (\(deleted.subtracting(removed).count) whose rm the kill cut short)")
            } catch {
                await fixture.unmount(mount, mnt)
                throw error
            }
            await fixture.unmount(mount, mnt)
        }
    }
}
