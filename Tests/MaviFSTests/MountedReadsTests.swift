import Foundation
import Glibc
import MaviAPI
import TestSupport
import Testing

/// Every byte read through the mount, by ordinary tools and syscalls through the kernel, equals the
/// source, however it is read, whether the server honours Range (`mavifs serve`) or not
/// (`mavifs serve --no-range`); and only one download per video reaches the server.
@Suite("Reading videos through a real mount", .serialized, .timeLimit(.minutes(5)))
struct MountedReadsTests {
    @Test("a sequential read has the source's SHA-256, from one download, or none where Range is honoured", arguments: [true, false])
    func sequential(rangeRequests: Bool) async throws {
        try await CachedLibrary.with(sizes: [5_000_000], rangeRequests: rangeRequests) { library in
            let video = library.videos[0]
            let expected = try await library.sourceDigest(video)
            #expect(try await library.digestThroughMount(video) == expected)
            #expect(library.downloads(video) == (rangeRequests ? 0 : 1), "Range first: no download where Range is honoured")
        }
    }

    @Test("random reads of many offsets and sizes return the source's bytes", arguments: [true, false])
    func randomReads(rangeRequests: Bool) async throws {
        try await CachedLibrary.with(sizes: [6_000_000], rangeRequests: rangeRequests) { library in
            let video = library.videos[0]
            let source = try library.source(video)
            try await library.mount { mounted in
                let path = mounted.path(video)
                let mismatches = try await blocking("random reads", timeout: 120) { () -> [String] in
                    var random = SeededGenerator(state: 7)
                    let fd = try FileReads.open(path)
                    defer { close(fd) }
                    var mismatches: [String] = []
                    for _ in 0..<200 {
                        let offset = Int.random(in: 0..<source.count, using: &random)
                        let length = Int.random(in: 1...400_000, using: &random)
                        let bytes = try FileReads.pread(fd, offset: offset, count: length)
                        let expected = source[offset..<min(offset + length, source.count)]
                        if bytes[...] != expected { mismatches.append("\(length) bytes at \(offset)") }
                    }
                    return mismatches
                }
                #expect(mismatches.isEmpty)
            }
            #expect(library.downloads(video) == (rangeRequests ? 0 : 1), "Range first: no download where Range is honoured")
        }
    }

    @Test("the last bytes first, as players read the moov atom, then the whole file", arguments: [true, false])
    func lastBytesFirst(rangeRequests: Bool) async throws {
        try await CachedLibrary.with(sizes: [8_000_000], rangeRequests: rangeRequests) { library in
            let video = library.videos[0]
            let source = try library.source(video)
            let expected = try await library.sourceDigest(video)
            try await library.mount { mounted in
                let path = mounted.path(video)
                let (tail, head) = try await blocking("tail then head", timeout: 60) { () -> ([UInt8], [UInt8]) in
                    let fd = try FileReads.open(path)
                    defer { close(fd) }
                    let tail = try FileReads.pread(fd, offset: source.count - 70_000, count: 100_000)
                    let head = try FileReads.pread(fd, offset: 0, count: 32_768)
                    return (tail, head)
                }
                #expect(tail[...] == source[(source.count - 70_000)...])
                #expect(head[...] == source[0..<32_768])
                let digest = try await sha256(path)
                #expect(digest == expected)
                let stats = mounted.reader.stats()
                if rangeRequests {
                    #expect(stats.bytesFetchedByRange > 0, "the tail came by Range, not after the whole download")
                } else {
                    #expect(stats.bytesFetchedByRange == 0)
                }
            }
            #expect(library.downloads(video) == (rangeRequests ? 0 : 1), "Range first: no download where Range is honoured")
        }
    }

    @Test("concurrent readers of one video: whole-file tools and random reads, one download or none", arguments: [true, false])
    func concurrentReadersOfOneVideo(rangeRequests: Bool) async throws {
        try await CachedLibrary.with(sizes: [7_000_000], rangeRequests: rangeRequests) { library in
            let video = library.videos[0]
            let source = try library.source(video)
            let expected = try await library.sourceDigest(video)
            try await library.mount { mounted in
                let path = mounted.path(video)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<3 {
                        group.addTask {
                            let digest = try await sha256(path)
                            #expect(digest == expected)
                        }
                    }
                    for seed in 1...3 {
                        group.addTask {
                            let mismatches = try await blocking("random reads", timeout: 120) { () -> Int in
                                var random = SeededGenerator(state: UInt64(seed))
                                let fd = try FileReads.open(path)
                                defer { close(fd) }
                                var mismatches = 0
                                for _ in 0..<60 {
                                    let offset = Int.random(in: 0..<source.count, using: &random)
                                    let bytes = try FileReads.pread(fd, offset: offset, count: 150_000)
                                    if bytes[...] != source[offset..<min(offset + 150_000, source.count)] { mismatches += 1 }
                                }
                                return mismatches
                            }
                            #expect(mismatches == 0)
                        }
                    }
                    try await group.waitForAll()
                }
            }
            #expect(library.downloads(video) == (rangeRequests ? 0 : 1), "Range first: no download where Range is honoured")
        }
    }

    @Test("concurrent readers of many videos each get their video's bytes, one download each or none", arguments: [true, false])
    func concurrentReadersOfManyVideos(rangeRequests: Bool) async throws {
        try await CachedLibrary.with(sizes: [2_000_000, 2_500_000, 3_000_000, 3_500_000], rangeRequests: rangeRequests) { library in
            var expected: [String: String] = [:]
            for video in library.videos { expected[video.videoNo] = try await library.sourceDigest(video) }
            let digests = expected
            try await library.mount { mounted in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for video in library.videos {
                        let path = mounted.path(video)
                        let source = try library.source(video)
                        for _ in 0..<2 {
                            group.addTask {
                                let digest = try await sha256(path)
                                #expect(digest == digests[video.videoNo])
                            }
                        }
                        group.addTask {
                            let tail = try await blocking("a tail read", timeout: 60) {
                                let fd = try FileReads.open(path)
                                defer { close(fd) }
                                return try FileReads.pread(fd, offset: source.count - 50_000, count: 50_000)
                            }
                            #expect(tail[...] == source[(source.count - 50_000)...], "video \(video.videoNo)")
                        }
                    }
                    try await group.waitForAll()
                }
            }
            for video in library.videos {
                #expect(library.downloads(video) == (rangeRequests ? 0 : 1), "video \(video.videoNo)")
            }
        }
    }

    @Test("ffprobe reads an MP4 whose moov atom is at the end", arguments: [true, false])
    func ffprobeWithMoovAtTheEnd(rangeRequests: Bool) async throws {
        let work = try TemporaryDirectory(prefix: "mavifs-moov")
        defer { work.remove() }
        // Without +faststart, ffmpeg writes the moov atom after the media data.
        let clip = work.appending("moov-last.mp4")
        let made = try await run([
            "ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc=duration=4:size=320x240:rate=25",
            "-c:v", "mpeg4", "-q:v", "2", clip,
        ], timeout: 120)
        try #require(made.succeeded, "ffmpeg: \(made.stderr)")
        let local = try await run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", clip])
        try await CachedLibrary.with(sizes: [], rangeRequests: rangeRequests) { library in
            let seeded = try await library.server.seedVideos(count: 1, namespace: APILimits.defaultNamespace, sourceFile: clip)
            try await library.mount { mounted in
                let probed = try await run([
                    "ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", mounted.mountpoint + "/by-id/\(seeded[0]).mp4",
                ])
                #expect(probed.succeeded, "ffprobe: \(probed.stderr)")
                #expect(probed.stdout == local.stdout)
                #expect(probed.stdout.hasPrefix("4.0"))
            }
            #expect((library.server.stats().downloads[seeded[0]] ?? 0) == (rangeRequests ? 0 : 1))
        }
    }
}
