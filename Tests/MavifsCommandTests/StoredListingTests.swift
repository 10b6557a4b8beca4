import Foundation
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
                try await run(["ls", mnt + "/all"], timeout: 60).stdout.split(separator: "\n").map(String.init)
            }
            @Sendable func status() async throws -> [String: Any] {
                let result = try await run([fixture.binary, "status", "--json", mnt], timeout: 30, environment: fixture.environment)
                return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
            }

            var mount = try await fixture.mount(mnt, cache: cache)
            let before: [String]
            do {
                before = try await names()
                #expect(before.count == 60)
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
}
