import Foundation
import Glibc
import MaviClient
import MaviFS
import MaviLibrary
import MaviServer
import Testing
import TestSupport

/// A misbehaving server never makes the mount lie or hang: under cut and stalled streams, 503 and
/// 0429 bursts and slow replies every read returns the source's bytes or fails with EIO; a server
/// that stops answering costs each request at most its deadline; the mount recovers by itself.
@Suite("Faults on a real mount", .serialized, .timeLimit(.minutes(5)))
struct FaultToleranceTests {
    /// One kind of misbehaviour, set on the server while one video is read for the first time.
    struct Fault: Sendable, CustomStringConvertible {
        var name: String
        var settings: FaultSettings
        var description: String { name }
    }

    static let streams: [Endpoint] = [.download, .file, .downloadBlob]

    static let kinds: [Fault] = [
        Fault(name: "cut streams", settings: FaultSettings(cutAfterBytes: 300_000, cutCount: 2, endpoints: streams)),
        Fault(name: "stalled stream", settings: FaultSettings(stallAfterBytes: 700_000, stallCount: 1, endpoints: streams)),
        Fault(name: "503 burst", settings: FaultSettings(http503: 3)),
        Fault(name: "0429 burst", settings: FaultSettings(rateLimited: 3)),
        Fault(name: "slow replies", settings: FaultSettings(latencyMs: 300, streamBytesPerSecond: 1_500_000)),
    ]

    /// How many units of a fault the server used up (bursts, cuts, stalls), or requests slowed.
    static func injected(_ before: FaultSettings, _ after: FaultSettings, requests: Int) -> Int {
        if before.latencyMs != nil { return requests }
        func used(_ a: Int?, _ b: Int?) -> Int { (a ?? 0) - (b ?? 0) }
        return used(before.http503, after.http503) + used(before.rateLimited, after.rateLimited)
            + used(before.cutCount, after.cutCount) + used(before.stallCount, after.stallCount)
    }

    @Test("under each fault every read gives the source's bytes or EIO, and the file reads whole once the fault is gone")
    func readsUnderFaults() async throws {
        let rounds = Soak.scale(ci: 1, soak: 6)
        let orders: [ReadOrder] = [.sequential, .scattered(seed: 7), .interleaved(positions: 3)]
        try await SeededMount.with(videoCount: Self.kinds.count * orders.count * rounds) { mount in
            _ = try await blocking { try FileManager.default.contentsOfDirectory(atPath: mount.path("by-id")) }
            var total = ReadTally()
            var injected = 0
            var index = 0
            for round in 0..<rounds {
                for order in orders {
                    for fault in Self.kinds {
                        let video = mount.videos[index]
                        index += 1
                        mount.server.server.resetStats()
                        mount.setFaults(fault.settings)
                        let path = mount.path(video.byID)
                        let tally = try await blocking("reading under \(fault)", timeout: 120) {
                            checkedRead(path, source: video.source, order: order, digest: true)
                        }
                        let left = mount.server.server.faults
                        let requests = mount.server.server.stats().requests.values.reduce(0, +)
                        mount.setFaults(FaultSettings())
                        injected += Self.injected(fault.settings, left, requests: requests)
                        #expect(tally.wrongReads == 0, "\(fault), \(order): \(tally)")
                        #expect(tally.onlyEIO, "\(fault), \(order): \(tally)")
                        if case .sequential = order, tally.failures.isEmpty {
                            #expect(tally.sha256 == VideoDigest.hex(of: video.source), "\(fault)")
                        }
                        // Whatever failed reads back right once the server behaves (the download
                        // gave up may hold further attempts off for a moment).
                        var again = ReadTally()
                        if !tally.failedOffsets.isEmpty {
                            again = try await readUntilClean(path, video, offsets: tally.failedOffsets)
                            #expect(again.wrongReads == 0 && again.failures.isEmpty, "\(fault): \(again)")
                        }
                        total = total + tally + again
                        reportFigure("faults", "round \(round) \(fault) \(order): \(tally); re-read \(again.reads)")
                    }
                }
            }
            reportFigure("faults", "total: \(injected) faults injected; \(total)")
            #expect(total.wrongReads == 0)
            #expect(injected >= Self.kinds.count * orders.count * rounds, "every round injected its fault")
        }
    }

    @Test("a server that stops answering: reads fail with EIO and ls shows the last listing within the deadlines, df answers at once, and the mount recovers by itself")
    func serverStopsAnswering() async throws {
        try await SeededMount.with(videoCount: 3) { mount in
            let cached = mount.videos[0], uncached = mount.videos[1]
            let listedBefore = Set(try await blocking { try FileManager.default.contentsOfDirectory(atPath: mount.path("by-id")) })
            #expect(listedBefore.count == 3)
            let warm = try await blocking { checkedRead(mount.path(cached.byID), source: cached.source) }
            #expect(warm.failures.isEmpty && warm.wrongReads == 0)

            mount.setFaults(FaultSettings(hang: true))
            // Past the listing TTL, so listing asks the server.
            try await Task.sleep(for: mount.options.listTTL + .milliseconds(200))
            let metadataLimit = Self.secondsOf(mount.options.metadataTimeout) + 3
            let readLimit = Self.secondsOf(mount.options.readTimeout) + 3

            var start = ContinuousClock.now
            let listedDuring = Set(try await blocking(timeout: 60) { try FileManager.default.contentsOfDirectory(atPath: mount.path("by-id")) })
            let lsSeconds = elapsedSeconds(since: start)
            #expect(listedDuring == listedBefore, "the last listing is served")
            #expect(lsSeconds < metadataLimit, "ls took \(lsSeconds)s")

            start = .now
            let lsAgain = Set(try await blocking(timeout: 60) { try FileManager.default.contentsOfDirectory(atPath: mount.path("all")) })
            let lsAgainSeconds = elapsedSeconds(since: start)
            #expect(lsAgain.count == 3)

            start = .now
            let df = try await run(["df", "-k", mount.mountpoint], timeout: 30)
            let dfSeconds = elapsedSeconds(since: start)
            #expect(df.succeeded, "\(df.stderr)")
            #expect(dfSeconds < 5, "df took \(dfSeconds)s")

            start = .now
            let failed = try await blocking(timeout: 120) { checkedRead(mount.path(uncached.byID), source: uncached.source, offsets: [0]) }
            let readSeconds = elapsedSeconds(since: start)
            #expect(failed.failures == [EIO: 1], "\(failed)")
            #expect(readSeconds < readLimit, "the read took \(readSeconds)s")

            // Cached bytes need no server.
            let fromCache = try await blocking(timeout: 60) { checkedRead(mount.path(cached.byID), source: cached.source) }
            #expect(fromCache.failures.isEmpty && fromCache.wrongReads == 0)

            let added = try await mount.seedAnother(size: 300_000, seed: 99, in: NSTemporaryDirectory())
            mount.setFaults(FaultSettings())
            start = .now
            try await waitUntil("the new video to be listed after the server came back", timeout: 60, interval: 0.5) {
                let names = try await blocking { try FileManager.default.contentsOfDirectory(atPath: mount.path("by-id")) }
                return names.contains("\(added.videoNo).mp4")
            }
            let recovered = try await readUntilClean(mount.path(uncached.byID), uncached)
            let recoverySeconds = elapsedSeconds(since: start)
            #expect(recovered.wrongReads == 0 && recovered.sha256 == VideoDigest.hex(of: uncached.source))
            reportFigure("stopped server", String(
                format: "ls %.2fs then %.2fs (deadline %.0fs), df %.2fs, read EIO after %.2fs (deadline %.0fs), recovered in %.2fs",
                lsSeconds, lsAgainSeconds, Self.secondsOf(mount.options.metadataTimeout), dfSeconds, readSeconds,
                Self.secondsOf(mount.options.readTimeout), recoverySeconds))
        }
    }

    @Test("without a listing to fall back on, ls fails with EIO within the deadline")
    func noListingToFallBackOn() async throws {
        try await SeededMount.with(videoCount: 1) { mount in
            mount.setFaults(FaultSettings(hang: true))
            let start = ContinuousClock.now
            let error = try await blocking(timeout: 60) { () -> Int32 in
                guard let dir = opendir(mount.path("by-tag")) else { return errno }
                closedir(dir)
                return 0
            }
            let elapsed = elapsedSeconds(since: start)
            #expect(error == EIO)
            #expect(elapsed < Self.secondsOf(mount.options.metadataTimeout) + 3, "took \(elapsed)s")
        }
    }

    @Test("a view opened for the first time while the server is silent is answered from the last full listing, filtered as the server filters")
    func firstViewWhileSilent() async throws {
        try await SeededMount.with(videoCount: 1) { mount in
            // Videos of every camera, so that the filter has something to leave out.
            _ = try await mount.server.server.seedVideos(count: 12)
            let camera = "iPhone 15 Pro"
            let expected = Set(try await mount.client.allVideos(filter: VideoFilter(cameraModel: camera)).map(\.videoNo))
            let everything = try await mount.client.allVideos(filter: VideoFilter()).count
            #expect(!expected.isEmpty && expected.count < everything)
            let listed = try await blocking { try FileManager.default.contentsOfDirectory(atPath: mount.path("all")) }
            #expect(listed.count == everything)

            mount.setFaults(FaultSettings(hang: true))
            try await Task.sleep(for: mount.options.listTTL + .milliseconds(200))
            let start = ContinuousClock.now
            let names = try await blocking(timeout: 60) { try FileManager.default.contentsOfDirectory(atPath: mount.path("by-camera/\(camera)")) }
            let seconds = elapsedSeconds(since: start)
            let shown = Set(try await blocking { try names.map { try xattr(mount.path("by-camera/\(camera)/\($0)"), "user.mavi.video_no") } })
            #expect(shown == expected, "by-camera shows the videos the server would")
            #expect(seconds < Self.secondsOf(mount.options.metadataTimeout) + 3, "took \(seconds)s")
            mount.setFaults(FaultSettings())
        }
    }

    @Test("rm returns once the delete is recorded; transient failures are tried until done, a refusal brings the video back")
    func deletesUnderFaults() async throws {
        let options = MaviFSOptions(allowDelete: true, listTTL: .seconds(1), readTimeout: .seconds(8), metadataTimeout: .seconds(3))
        let retries = DeleteQueue.Settings(retryDelay: .milliseconds(100), maxRetryDelay: .milliseconds(400))
        try await SeededMount.with(videoCount: 4, videoSize: 100_000, options: options, deleteSettings: retries) { mount in
            _ = try await blocking { try FileManager.default.contentsOfDirectory(atPath: mount.path("by-id")) }
            func rm(_ video: SeededVideo) async throws -> Int32 {
                try await blocking(timeout: 60) { unlink(mount.path(video.byID)) == 0 ? 0 : errno }
            }
            @Sendable func onServer(_ video: SeededVideo) async throws -> Bool {
                try await !mount.client.allVideos(filter: VideoFilter(videoNos: [video.videoNo])).isEmpty
            }
            func waitUntilGone(_ video: SeededVideo) async throws {
                try await waitUntil("\(video.videoNo) to be deleted on the server", timeout: 30) { try await !onServer(video) }
            }

            // More 503s than the client's attempts: rm has returned long before; the queue keeps
            // trying until the server takes it.
            mount.setFaults(FaultSettings(http503: 12, endpoints: [.deleteVideos]))
            #expect(try await rm(mount.videos[0]) == 0)
            #expect(try await blocking { statErrno(mount.path(mount.videos[0].byID)) } == ENOENT, "gone from the views at once")
            try await waitUntilGone(mount.videos[0])

            // No answer at all: rm does not wait for the server. A handle opened before reads
            // ENOENT, never bytes, while the delete is pending.
            mount.setFaults(FaultSettings(hang: true, endpoints: [.deleteVideos]))
            let path = mount.path(mount.videos[1].byID)
            let fd = open(path, O_RDONLY)
            #expect(fd >= 0)
            defer { if fd >= 0 { close(fd) } }
            let start = ContinuousClock.now
            #expect(try await rm(mount.videos[1]) == 0)
            #expect(elapsedSeconds(since: start) < 2, "rm waited for the server")
            let readErrno = try await blocking { () -> Int32 in
                var buffer = [UInt8](repeating: 0, count: 4096)
                return pread(fd, &buffer, buffer.count, 0) >= 0 ? 0 : errno
            }
            #expect(readErrno == ENOENT)
            #expect(mount.deletes.isPending(mount.videos[1].videoNo))
            #expect(try await onServer(mount.videos[1]), "not deleted while the server does not answer")
            mount.setFaults(FaultSettings())
            try await waitUntilGone(mount.videos[1])

            // A short 0429 burst is waited out.
            mount.setFaults(FaultSettings(rateLimited: 2, endpoints: [.deleteVideos]))
            #expect(try await rm(mount.videos[2]) == 0)
            try await waitUntilGone(mount.videos[2])

            // Refused for good (9009): the video shows again, and the refusal says which and why.
            mount.setFaults(FaultSettings(refuseCode: "9009", endpoints: [.deleteVideos]))
            let refused = mount.videos[3]
            #expect(try await rm(refused) == 0)
            try await waitUntil("the refusal", timeout: 30) { mount.deletes.stats().refused == 1 }
            let stats = mount.deletes.stats()
            #expect(stats.refusals.last?.videoNos == [refused.videoNo], "\(stats)")
            #expect(stats.refusals.last?.reason.contains("9009") == true, "\(stats)")
            try await waitUntil("the refused video to show again", timeout: 30) {
                try await blocking { statErrno(mount.path(refused.byID)) } == 0
            }
            #expect(try await onServer(refused))
            mount.setFaults(FaultSettings())
            #expect(stats.pending == 0 && stats.confirmed == 3, "\(stats)")
        }
    }

    @Test("unmounting while a read waits on a stalled download ends the read with an error")
    func unmountWithReadsInFlight() async throws {
        let options = MaviFSOptions(listTTL: .seconds(60), readTimeout: .seconds(60), metadataTimeout: .seconds(5))
        try await SeededMount.with(videoCount: 1, options: options) { mount in
            let video = mount.videos[0]
            _ = try await blocking { try FileManager.default.contentsOfDirectory(atPath: mount.path("by-id")) }
            mount.setFaults(FaultSettings(hang: true, endpoints: Self.streams))
            let path = mount.path(video.byID)
            let outcome = OneShot<ReadTally>()
            let reader = Thread { outcome.fulfil(checkedRead(path, source: video.source, offsets: [0])) }
            reader.start()
            _ = try await ServerHarness.poll("the read to reach the server") { () -> Bool? in
                mount.server.server.stats().requests.values.reduce(0, +) > 1 ? true : nil
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(outcome.current == nil, "the read is still waiting")
            let start = ContinuousClock.now
            mount.session.requestUnmount(grace: 1)
            let tally = await outcome.value(timeout: 20)
            let elapsed = elapsedSeconds(since: start)
            #expect(tally != nil, "the read ended")
            #expect(tally?.failures.isEmpty == false && tally?.wrongReads == 0, "\(String(describing: tally))")
            reportFigure("unmount in flight", "read ended with \(tally.map { "\($0.failures.keys.map { String(cString: strerror($0)) })" } ?? "nothing") \(String(format: "%.2f", elapsed))s after unmount")
        }
    }

    /// Reads again (every half second, for at most 60 s) until no read fails, and returns the
    /// last attempt.
    func readUntilClean(_ path: String, _ video: SeededVideo, offsets: [Int]? = nil) async throws -> ReadTally {
        let digest = offsets == nil
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let tally = try await blocking(timeout: 60) { checkedRead(path, source: video.source, offsets: offsets, digest: digest) }
            if tally.failures.isEmpty || ContinuousClock.now > deadline { return tally }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    static func secondsOf(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
