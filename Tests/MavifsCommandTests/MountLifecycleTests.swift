import Foundation
import Glibc
import MaviServer
import Testing
import Synchronization
import TestSupport

/// The mount as a process: signals unmount it cleanly, a crashed mount is cleaned up by the next
/// one, and SIGKILL at any moment during reads leaves a cache whose every byte is right.
@Suite("mavifs mount as a process", .serialized, .timeLimit(.minutes(6)))
struct MountLifecycleTests {
    @Test("SIGTERM and SIGINT unmount cleanly; a read waiting on the network ends with an error, not a hang")
    func signals() async throws {
        try await MountFixture.with(videoCount: 1, videoSize: 1 << 20) { fixture in
            for sig in [SIGTERM, SIGINT] {
                let mnt = try fixture.directory("mnt-signal-\(sig)")
                let mount = try await fixture.mount(mnt, cache: fixture.work + "/cache-\(sig)")
                let video = fixture.videos[0]
                _ = try await blocking { try FileManager.default.contentsOfDirectory(atPath: mnt + "/by-id") }
                // The download never answers, so the read is waiting when the signal comes.
                fixture.server.server.setFaults(FaultSettings(hang: true, endpoints: [.download, .file, .downloadBlob]))
                let outcome = OneShot<ReadTally>()
                Thread { outcome.fulfil(checkedRead(mnt + "/" + video.byID, source: video.source, offsets: [0])) }.start()
                try await Task.sleep(for: .milliseconds(800))
                #expect(outcome.current == nil, "the read is waiting")
                let start = ContinuousClock.now
                mount.signal(sig)
                let status = await mount.wait(timeout: 30)
                let read = await outcome.value(timeout: 20)
                let elapsed = elapsedSeconds(since: start)
                fixture.server.server.setFaults(FaultSettings())
                #expect(status == 0, "exit status after signal \(sig): \(String(describing: status)); \(mount.stderr)")
                #expect(mountOptions(of: mnt) == nil, "unmounted")
                #expect(read?.failures.isEmpty == false && read?.wrongReads == 0, "\(String(describing: read))")
                if status == nil { await fixture.unmount(mount, mnt) }
                reportFigure("lifecycle", "signal \(sig): exit \(String(describing: status)) after \(String(format: "%.2f", elapsed))s, waiting read ended with \(read.map { "\($0.failures.keys.map { String(cString: strerror($0)) })" } ?? "nothing")")
            }
        }
    }

    @Test("SIGKILL at random moments during reads: the next mount cleans up, and every cached byte is right")
    func killLoop() async throws {
        let rounds = Soak.scale(ci: 4, soak: 40)
        try await MountFixture.with(videoCount: 4, videoSize: 3 << 20) { fixture in
            let mnt = try fixture.directory("mnt-kill")
            let cache = fixture.work + "/cache-kill"
            // A slow network, so that kills land in the middle of downloads and record flushes.
            fixture.server.server.setFaults(FaultSettings(streamBytesPerSecond: 1 << 20))
            var rng = SeededGenerator(seed: 0xC0FFEE)
            var during = ReadTally()
            var cleanedUp = 0
            var firstAudit = CacheAudit.Result()
            let sources = Dictionary(uniqueKeysWithValues: fixture.videos.map { ($0.videoNo, $0.source) })
            for round in 0..<rounds {
                let mount = try await fixture.mount(mnt, cache: cache, ["--cache-block-size", "64K", "--cache-flush-interval", "0.2"])
                if round > 0, mount.stderr.contains("left mounted by a process that is gone") { cleanedUp += 1 }
                let tallies = Mutex<[ReadTally]>([])
                let readers = fixture.videos.map { video in
                    let offset = Int.random(in: 0..<4, using: &rng)
                    return Thread {
                        let order: ReadOrder = offset == 0 ? .sequential : .scattered(seed: UInt64(offset))
                        let t = checkedRead(mnt + "/" + video.byID, source: video.source, chunk: 64 << 10, order: order)
                        tallies.withLock { $0.append(t) }
                    }
                }
                readers.forEach { $0.start() }
                let readerCount = readers.count
                if round == 0 {
                    // The first kill lands surely mid-download: a megabyte of the twelve is out,
                    // and the mount has written a record of what it holds.
                    fixture.server.server.resetStats()
                    _ = try await ServerHarness.poll("a megabyte to be sent and a record written", within: .seconds(60)) { () -> Bool? in
                        fixture.server.server.stats().bytesStreamed >= 1 << 20 && CacheAudit.hasRecord(cache: cache) ? true : nil
                    }
                } else {
                    try await Task.sleep(for: .milliseconds(Int.random(in: 300...2500, using: &rng)))
                }
                mount.signal(SIGKILL)
                #expect(await mount.wait(timeout: 20) == 128 + SIGKILL)
                try await waitUntil("the readers to end", timeout: 30) { tallies.withLock { $0.count } == readerCount }
                for t in tallies.withLock({ $0 }) { during = during + t }
                #expect(try await blocking { statfsErrno(mnt) } == ENOTCONN, "a killed mount is left stale")
                if round == 0 {
                    let first = try CacheAudit.verify(cache: cache, sources: sources)
                    #expect(first.mismatchedBlocks == 0 && first.partialRecords > 0, "after a kill mid-download: \(first)")
                    firstAudit = first
                }
            }
            #expect(during.wrongReads == 0, "reads while being killed: \(during)")
            #expect(cleanedUp == rounds - 1, "each mount after a kill cleaned up the stale one")

            // Every block a record calls complete holds the source's bytes.
            let verified = try CacheAudit.verify(cache: cache, sources: sources)
            #expect(verified.mismatchedBlocks == 0, "\(verified)")
            #expect(verified.bytes > 0, "the kills left some complete blocks to check")

            // And a fresh mount reads everything right, from the cache where it can.
            fixture.server.server.setFaults(FaultSettings())
            let mount = try await fixture.mount(mnt, cache: cache)
            var after = ReadTally()
            for video in fixture.videos {
                let t = try await blocking(timeout: 120) { checkedRead(mnt + "/" + video.byID, source: video.source, digest: true) }
                #expect(t.failures.isEmpty && t.wrongReads == 0 && t.sha256 == VideoDigest.hex(of: video.source), "\(t)")
                after = after + t
            }
            await fixture.unmount(mount, mnt)
            reportFigure("kill loop", "\(rounds) SIGKILLs during reads (\(during.reads) reads, \(during.bytesVerified) bytes verified, wrong \(during.wrongReads)); \(cleanedUp) stale mounts cleaned up; cache audit after the first kill \(firstAudit), after the last \(verified); afterwards \(after.bytesVerified) bytes read back right")
        }
    }
}
