import Foundation
import Glibc
import MaviAPI
@testable import MaviLibrary
import TestSupport
import Testing

/// Every byte read through the cache equals the source (compared byte for byte: hashing in a
/// debug build would cost more than the reads), however it is read, with and without a
/// source that honours Range; and only one download per video reaches the server.
@Suite("Reading through the cache", .timeLimit(.minutes(5)))
struct ReadingTests {
    @Test("a sequential read returns the file, from one download, or none where Range is honoured", arguments: [true, false])
    func sequential(rangeRequests: Bool) async throws {
        try await LibraryFixture.with(rangeRequests: rangeRequests) { fixture in
            let video = fixture.videos[0]
            try await withReader(fixture.makeReader()) { reader in
                let bytes = try await readSequentially(reader, video, chunk: 131_072)
                #expect(bytes == fixture.source)
                #expect(fixture.downloads(video) == (rangeRequests ? 0 : 1), "Range first: no download where Range is honoured")
                let stats = reader.stats()
                #expect(stats.bytesFromCache + stats.bytesFromNetwork == Int64(fixture.source.count))
            }
        }
    }

    @Test("random reads of many offsets and sizes return the right bytes", arguments: [true, false])
    func randomReads(rangeRequests: Bool) async throws {
        try await LibraryFixture.with(rangeRequests: rangeRequests) { fixture in
            let video = fixture.videos[0]
            let size = fixture.source.count
            var random = SeededGenerator(state: 42)
            try await withReader(fixture.makeReader()) { reader in
                for _ in 0..<200 {
                    let offset = Int.random(in: 0..<size, using: &random)
                    let length = Int.random(in: 1...300_000, using: &random)
                    let bytes = try await reader.read(video, offset: UInt64(offset), size: length)
                    #expect(bytes.count == min(length, size - offset))
                    #expect(bytes[...] == fixture.source[offset..<(offset + bytes.count)])
                }
                #expect(fixture.downloads(video) == (rangeRequests ? 0 : 1), "Range first: no download where Range is honoured")
            }
        }
    }

    @Test("reading the last bytes first, as players do for the moov atom", arguments: [true, false])
    func lastBytesFirst(rangeRequests: Bool) async throws {
        try await LibraryFixture.with(size: 3_000_000, rangeRequests: rangeRequests) { fixture in
            let video = fixture.videos[0]
            let size = fixture.source.count
            try await withReader(fixture.makeReader()) { reader in
                let tail = try await reader.read(video, offset: UInt64(size - 10_000), size: 65_536)
                #expect(tail[...] == fixture.source[(size - 10_000)...])
                let head = try await reader.read(video, offset: 0, size: 4096)
                #expect(head[...] == fixture.source[0..<4096])
                let all = try await readSequentially(reader, video)
                #expect(all == fixture.source)
                #expect(fixture.downloads(video) == (rangeRequests ? 0 : 1), "Range first: no download where Range is honoured")
                if rangeRequests {
                    #expect(fixture.fileRequests(video) >= 1, "the tail was fetched by Range")
                    #expect(reader.stats().bytesFetchedByRange > 0)
                } else {
                    #expect(reader.stats().bytesFetchedByRange == 0)
                }
            }
        }
    }

    @Test("concurrent readers of one video share one download, or none where Range is honoured", arguments: [true, false])
    func concurrentReadersOfOneVideo(rangeRequests: Bool) async throws {
        try await LibraryFixture.with(size: 2_000_000, rangeRequests: rangeRequests) { fixture in
            let video = fixture.videos[0]
            let source = fixture.source
            try await withReader(fixture.makeReader()) { reader in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for reader_ in 0..<8 {
                        group.addTask {
                            var random = SeededGenerator(state: UInt64(reader_ + 1))
                            if reader_ % 2 == 0 {
                                let bytes = try await readSequentially(reader, video, chunk: 50_000 + reader_ * 7_919)
                                #expect(bytes == source)
                            } else {
                                for _ in 0..<30 {
                                    let offset = Int.random(in: 0..<source.count, using: &random)
                                    let bytes = try await reader.read(video, offset: UInt64(offset), size: 100_000)
                                    #expect(bytes[...] == source[offset..<(offset + bytes.count)])
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                #expect(fixture.downloads(video) == (rangeRequests ? 0 : 1), "Range first: no download where Range is honoured")
            }
        }
    }

    @Test("concurrent readers of many videos get each video's bytes, one download each, or none where Range is honoured", arguments: [true, false])
    func concurrentReadersOfManyVideos(rangeRequests: Bool) async throws {
        try await LibraryFixture.with(videos: 5, size: 1_000_000, rangeRequests: rangeRequests) { fixture in
            let source = fixture.source
            try await withReader(fixture.makeReader()) { reader in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for video in fixture.videos {
                        for copy in 0..<3 {
                            group.addTask {
                                reader.opened(video)
                                defer { reader.closed(video) }
                                if copy == 2 {
                                    let tail = try await reader.read(video, offset: UInt64(source.count - 5000), size: 5000)
                                    #expect(tail[...] == source[(source.count - 5000)...])
                                }
                                let bytes = try await readSequentially(reader, video, chunk: 65_536 + copy * 1000)
                                #expect(bytes == source)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                for video in fixture.videos {
                    #expect(fixture.downloads(video) == (rangeRequests ? 0 : 1), "video \(video.videoNo)")
                }
            }
        }
    }

    @Test("a fully cached video is read again without any request")
    func cachedVideoIsNotFetchedAgain() async throws {
        try await LibraryFixture.with { fixture in
            let video = fixture.videos[0]
            try await withReader(fixture.makeReader()) { reader in
                _ = try await readSequentially(reader, video)
                let requestsBefore = fixture.server.stats()
                let again = try await readSequentially(reader, video, chunk: 77_777)
                #expect(again == fixture.source)
                let requestsAfter = fixture.server.stats()
                #expect(requestsAfter.downloads == requestsBefore.downloads)
                #expect(requestsAfter.fileRequests == requestsBefore.fileRequests)
                #expect(reader.stats().bytesFromCache >= Int64(fixture.source.count))
            }
        }
    }

    @Test("reads that start together on a new video share one data file, which later reads find again")
    func firstReadsShareTheDataFile() async throws {
        try await LibraryFixture.with(size: 1_000_000, rangeRequests: false) { fixture in
            let video = fixture.videos[0]
            let source = fixture.source
            try await withReader(fixture.makeReader()) { reader in
                // Sixteen reads race to create the data file.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for i in 0..<16 {
                        group.addTask {
                            let offset = i * 60_000
                            let bytes = try await reader.read(video, offset: UInt64(offset), size: 60_000)
                            #expect(bytes[...] == source[offset..<(offset + bytes.count)])
                        }
                    }
                    try await group.waitForAll()
                }
                try await waitUntil("the stream to end", timeout: 20) { reader.stats().downloadsInFlight.isEmpty }
                // Idle now, so the next read opens the data file from its path again.
                let again = try await readSequentially(reader, video)
                #expect(again == source)
                #expect(cacheDataFiles(fixture.cacheDirectory).count == 1)
                #expect(fixture.downloads(video) == 1)
            }
        }
    }

    @Test("reads past the end return what exists; empty reads return nothing")
    func edges() async throws {
        try await LibraryFixture.with(size: 200_000) { fixture in
            let video = fixture.videos[0]
            try await withReader(fixture.makeReader()) { reader in
                #expect(try await reader.read(video, offset: 200_000, size: 10).isEmpty)
                #expect(try await reader.read(video, offset: 1 << 40, size: 10).isEmpty)
                #expect(try await reader.read(video, offset: 0, size: 0).isEmpty)
                let last = try await reader.read(video, offset: 199_990, size: 4096)
                #expect(last[...] == fixture.source[199_990...])
                var unsized = video
                unsized.size = nil
                let error = await readError { try await reader.read(unsized, offset: 0, size: 10) }
                #expect((error as? VideoReadError) == .unknownSize)
            }
        }
    }
}

/// Replies that hand the kernel a range of the cache file instead of copied bytes.
@Suite("Cache file ranges", .timeLimit(.minutes(5)))
struct CachedFileRangeTests {
    @Test("a cached file range holds the video's bytes at the video's offsets", arguments: [true, false])
    func rangesHoldTheBytes(rangeRequests: Bool) async throws {
        try await LibraryFixture.with(size: 1_500_000, rangeRequests: rangeRequests) { fixture in
            let video = fixture.videos[0]
            try await withReader(fixture.makeReader()) { reader in
                var random = SeededGenerator(state: 3)
                for _ in 0..<40 {
                    let offset = Int.random(in: 0..<fixture.source.count, using: &random)
                    let range = try await reader.cachedFileRange(video, offset: UInt64(offset), size: 131_072)
                    #expect(range.offset == Int64(offset))
                    #expect(range.length == min(131_072, fixture.source.count - offset))
                    let bytes = bytesIn(range)
                    #expect(bytes.count == range.length)
                    #expect(bytes[...] == fixture.source[offset..<(offset + range.length)])
                }
                let end = try await reader.cachedFileRange(video, offset: UInt64(fixture.source.count), size: 10)
                #expect(end.length == 0)
                #expect(fixture.downloads(video) == (rangeRequests ? 0 : 1), "Range first: no download where Range is honoured")
            }
        }
    }

    @Test("without waiting, a file range is given only for bytes already cached, and asking starts no download")
    func rangeIfPresent() async throws {
        try await LibraryFixture.with(size: 1_500_000, rangeRequests: false) { fixture in
            let video = fixture.videos[0]
            try await withReader(fixture.makeReader()) { reader in
                // As a mount does: the video is open while it is read.
                reader.opened(video)
                defer { reader.closed(video) }
                #expect(reader.cachedFileRangeIfPresent(video, offset: 0, size: 131_072) == nil)
                #expect(fixture.downloads(video) == 0, "asking without waiting fetched nothing")
                _ = try await reader.read(video, offset: 0, size: fixture.source.count)
                let range = try #require(reader.cachedFileRangeIfPresent(video, offset: 200_000, size: 131_072))
                #expect(range.offset == 200_000 && range.length == 131_072)
                let bytes = bytesIn(range)
                reader.release(range)
                #expect(bytes.count == range.length && bytes[...] == fixture.source[200_000..<331_072])
                #expect(reader.cachedFileRangeIfPresent(video, offset: UInt64(fixture.source.count), size: 10)?.length == 0)
                #expect(fixture.downloads(video) == 1)
            }
        }
    }
}
