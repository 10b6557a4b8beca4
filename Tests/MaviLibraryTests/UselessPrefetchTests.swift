import Foundation
@testable import MaviLibrary
import MaviServer
import Testing
import TestSupport

/// Read-ahead that nobody will read is stopped, not left to spend the link: after the last handle
/// closes, and when a jump replaces the read position it was made for.
///
/// The places read are cached first; then ranged replies trickle at 1 KiB a second, so any
/// read-ahead (at least a 64 KiB block) keeps its reply open for over a minute unless it is
/// stopped. Reading the cached places again builds up read-ahead without waiting on the trickle.
/// The server counts the replies still open.
@Suite("Prefetches nobody will read", .timeLimit(.minutes(5)))
struct UselessPrefetchTests {
    static let trickle = FaultSettings(streamBytesPerSecond: 1 << 10, endpoints: [.file])

    /// Reads `blocks` blocks sequentially from `offset`, checking the bytes.
    func readAlong(_ reader: VideoReader, _ fixture: LibraryFixture, from offset: Int, blocks: Int) async throws {
        var position = offset
        while position < offset + blocks * testBlockSize {
            let bytes = try await reader.read(fixture.videos[0], offset: UInt64(position), size: 32 << 10)
            #expect(bytes[...] == fixture.source[position..<(position + bytes.count)])
            position += bytes.count
        }
    }

    /// One read of 16 KiB at `offset`, checking the bytes.
    func readOnce(_ reader: VideoReader, _ fixture: LibraryFixture, at offset: Int) async throws {
        let bytes = try await reader.read(fixture.videos[0], offset: UInt64(offset), size: 16 << 10)
        #expect(bytes[...] == fixture.source[offset..<(offset + (16 << 10))])
    }

    /// Caches the places (offset, blocks) with a reader that reads at most one block ahead.
    func cache(_ places: [(Int, Int)], _ fixture: LibraryFixture) async throws {
        var configuration = fixture.configuration()
        configuration.maxReadAhead = testBlockSize
        try await withReader(fixture.makeReader(configuration)) { reader in
            for (offset, blocks) in places { try await readAlong(reader, fixture, from: offset, blocks: blocks) }
        }
    }

    @Test("closing the last handle stops the read-ahead made for it")
    func closingStopsPrefetches() async throws {
        try await LibraryFixture.with(size: 16 << 20) { fixture in
            let video = fixture.videos[0]
            try await cache([(0, 8)], fixture)
            fixture.server.setFaults(Self.trickle)
            try await withReader(fixture.makeReader()) { reader in
                reader.opened(video)
                try await readAlong(reader, fixture, from: 0, blocks: 8)
                try await waitUntil("read-ahead to be under way", timeout: 30) { fixture.server.stats().streamsOpen > 0 }
                reader.closed(video)
                try await waitUntil("the read-ahead to stop", timeout: 30) { fixture.server.stats().streamsOpen == 0 }
            }
            #expect(fixture.downloads(video) == 0)
        }
    }

    @Test("a jump that replaces the oldest of a file's read positions stops that position's read-ahead, not the others'")
    func replacedPositionStopsItsPrefetches() async throws {
        try await LibraryFixture.with(size: 32 << 20) { fixture in
            let video = fixture.videos[0]
            let others = [12, 16, 20, 24].map { ($0 << 20, 1) }
            try await cache([(0, 8)] + others, fixture)
            fixture.server.setFaults(Self.trickle)
            try await withReader(fixture.makeReader()) { reader in
                reader.opened(video)
                try await readAlong(reader, fixture, from: 0, blocks: 8)
                try await waitUntil("read-ahead to be under way", timeout: 30) { fixture.server.stats().streamsOpen > 0 }
                // Three more positions are kept alongside the first; a single read inside a block
                // makes no read-ahead, and the first position's keeps going.
                for (offset, _) in others.prefix(3) { try await readOnce(reader, fixture, at: offset) }
                #expect(fixture.server.stats().streamsOpen > 0, "the first position's read-ahead still runs")
                // A fifth position replaces the oldest: the first.
                try await readOnce(reader, fixture, at: others[3].0)
                try await waitUntil("the replaced position's read-ahead to stop", timeout: 30) { fixture.server.stats().streamsOpen == 0 }
                reader.closed(video)
            }
            #expect(fixture.downloads(video) == 0)
        }
    }
}
