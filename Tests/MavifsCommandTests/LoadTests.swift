import Foundation
import Glibc
import MaviServer
import Synchronization
import Testing
import TestSupport

/// 64 concurrent readers and a parallel walk-and-stat storm over a library of 10,000 videos, for
/// a bounded time: no errors, no wrong bytes, memory flat, one download per video at most.
@Suite("Load on a real mount", .serialized, .timeLimit(.minutes(6)))
struct LoadTests {
    static let duration = Soak.scale(ci: 15.0, soak: 300.0)
    static let readers = 64
    static let walkers = 4

    struct StormTally: Sendable {
        var entries = 0
        var errors: [String] = []
    }

    @Test("64 readers and a find + stat storm over 10,000 entries")
    func readersAndStorm() async throws {
        try await MountFixture.with(videoCount: 16, videoSize: 2 << 20) { fixture in
            _ = try await fixture.server.server.seedVideos(count: 10_000)
            let mnt = try fixture.directory("mnt-load")
            // The default deadlines (the fixture's short ones suit fault tests, not a debug build under load).
            let mount = try await fixture.mount(mnt, cache: fixture.work + "/cache-load", ["--read-timeout", "30", "--metadata-timeout", "10"])
            defer { forceUnmount(mnt) }
            let listed = try await blocking(timeout: 120) { try FileManager.default.contentsOfDirectory(atPath: mnt + "/all").filter { !$0.hasSuffix(".srt") }.count }
            #expect(listed == 10_016)
            fixture.server.server.resetStats()

            let deadline = Date().addingTimeInterval(Self.duration)
            let reads = Mutex(ReadTally())
            let storm = Mutex(StormTally())
            let finished = Mutex(0)
            for i in 0..<Self.readers {
                let video = fixture.videos[i % fixture.videos.count]
                Thread {
                    var round = 0
                    while Date() < deadline {
                        let order: ReadOrder = (i + round) % 3 == 0 ? .scattered(seed: UInt64(i * 1000 + round)) : .sequential
                        let tally = checkedRead(mnt + "/" + video.byID, source: video.source, order: order)
                        reads.withLock { $0 = $0 + tally }
                        round += 1
                    }
                    finished.withLock { $0 += 1 }
                }.start()
            }
            for w in 0..<Self.walkers {
                Thread {
                    while Date() < deadline {
                        // Half the walkers go over the whole tree (but each by-date day, which is
                        // a listing of its own), half stat every file of all/ and by-id/.
                        let tally = w % 2 == 0 ? Self.walk(mnt, until: deadline) : Self.statAll([mnt + "/all", mnt + "/by-id"], until: deadline)
                        storm.withLock { s in
                            s.entries += tally.entries
                            s.errors += tally.errors.prefix(10)
                        }
                    }
                    finished.withLock { $0 += 1 }
                }.start()
            }

            // The mount's resident memory, sampled while the load runs.
            var samples: [Int] = []
            while Date() < deadline {
                if let rss = Self.residentKiB(mount.pid) { samples.append(rss) }
                try await Task.sleep(for: .milliseconds(250))
            }
            try await waitUntil("the readers and walkers to finish", timeout: 180) { finished.withLock { $0 } == Self.readers + Self.walkers }
            let lasted = Date().timeIntervalSince(deadline) + Self.duration

            let r = reads.withLock { $0 }, s = storm.withLock { $0 }
            let stats = fixture.server.server.stats()
            #expect(r.failures.isEmpty && r.wrongReads == 0, "\(r)")
            #expect(s.errors.isEmpty, "\(s.errors.prefix(10))")
            #expect(s.entries >= 20_000, "the storm went over the tree (\(s.entries) entries)")
            #expect((stats.downloads.values.max() ?? 0) <= 1, "one download per video at most: \(stats.downloads)")

            let half = samples.count / 2
            let early = samples.prefix(half).max() ?? 0, late = samples.suffix(from: half).max() ?? 0
            #expect(late <= early + early / 4 + 32 * 1024, "resident memory grew from \(early) KiB to \(late) KiB")
            await fixture.unmount(mount, mnt)
            reportFigure("load", String(
                format: "%.0fs (ended after %.1fs), %d readers: %d reads, %lld bytes verified, %d wrong, failures %@; storm: %d entries, %d errors; downloads %d (max %d per video), file requests %d; mount RSS KiB min %d, first half max %d, second half max %d",
                Self.duration, lasted, Self.readers, r.reads, r.bytesVerified, r.wrongReads, "\(r.failures)", s.entries, s.errors.count,
                stats.downloads.values.reduce(0, +), stats.downloads.values.max() ?? 0, stats.fileRequests.values.reduce(0, +),
                samples.min() ?? 0, early, late))
        }
    }

    /// Walks the tree with readdir and lstat, stopping at `deadline`.
    static func walk(_ root: String, until deadline: Date) -> StormTally {
        var tally = StormTally()
        var queue = [root]
        while let dir = queue.popLast(), Date() < deadline {
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: dir)
            } catch {
                tally.errors.append("readdir \(dir): \(error)")
                continue
            }
            for name in names where Date() < deadline {
                let path = dir + "/" + name
                var st = stat()
                guard lstat(path, &st) == 0 else {
                    tally.errors.append("lstat \(path): \(String(cString: strerror(errno)))")
                    continue
                }
                tally.entries += 1
                if (st.st_mode & S_IFMT) == S_IFDIR { queue.append(path) }
            }
        }
        return tally
    }

    /// stat of every file in `directories`, stopping at `deadline`.
    static func statAll(_ directories: [String], until deadline: Date) -> StormTally {
        var tally = StormTally()
        for dir in directories where Date() < deadline {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
                tally.errors.append("readdir \(dir)")
                continue
            }
            for name in names where Date() < deadline {
                var st = stat()
                if stat(dir + "/" + name, &st) == 0 { tally.entries += 1 } else { tally.errors.append("stat \(name): \(String(cString: strerror(errno)))") }
            }
        }
        return tally
    }

    /// VmRSS of `pid` in KiB.
    static func residentKiB(_ pid: pid_t) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }
}
