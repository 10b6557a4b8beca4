import Foundation
import Glibc
import MaviAPI
import MaviServer
import TestSupport
import Testing

/// Read-ahead that nobody will read is stopped on the server, seen through a real mount: a seek
/// that replaces one of a file's read positions ends the ranged requests made for it, and closing
/// the file ends the rest.
///
/// The places read are cached first, by a mount that reads one block ahead; then ranged replies
/// trickle at 1 KiB a second, so any read-ahead keeps its reply open for minutes unless it is
/// stopped. The file is read with the kernel's own read-ahead off (`POSIX_FADV_RANDOM`), so every
/// read reaching the mount is one the test made. The server counts the replies still open.
@Suite("Read-ahead nobody will read, through a real mount", .serialized, .timeLimit(.minutes(5)))
struct MountedUselessPrefetchTests {
    static let block = 256 << 10
    static let head = 8 * block
    static let places = [12, 16, 20, 24].map { $0 << 20 }

    /// Reads `[offset, offset + length)` in 128 KiB reads with the kernel's read-ahead off;
    /// returns the places whose bytes differ from `source`.
    static func read(_ fd: Int32, _ source: [UInt8], from offset: Int, length: Int) throws -> [Int] {
        var wrong: [Int] = []
        var position = offset
        while position < offset + length {
            let bytes = try FileReads.pread(fd, offset: position, count: min(128 << 10, offset + length - position))
            if bytes[...] != source[position..<(position + bytes.count)] { wrong.append(position) }
            position += bytes.count
        }
        return wrong
    }

    static func openWithoutReadAhead(_ path: String) throws -> Int32 {
        let fd = try FileReads.open(path)
        let code = posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM)
        guard code == 0 else {
            close(fd)
            throw ReadFailure(call: "posix_fadvise \(path)", errno: code)
        }
        return fd
    }

    /// Caches the head and 16 KiB at each of `places` through a mount that reads one block ahead,
    /// then has the server trickle ranged replies.
    static func cacheThenTrickle(_ library: CachedLibrary, _ video: Video, _ source: [UInt8], places: [Int]) async throws {
        try await library.mount(maxReadAhead: block) { mounted in
            let path = mounted.path(video)
            let wrong = try await blocking("caching the places", timeout: 60) { () -> [Int] in
                let fd = try openWithoutReadAhead(path)
                defer { close(fd) }
                return try read(fd, source, from: 0, length: head) + places.flatMap { try read(fd, source, from: $0, length: 16 << 10) }
            }
            #expect(wrong.isEmpty)
        }
        library.server.setFaults(FaultSettings(streamBytesPerSecond: 1 << 10, endpoints: [.file]))
    }

    @Test("a seek that replaces a file's oldest read position stops that position's ranged requests on the server")
    func seekStopsItsReadAhead() async throws {
        try await CachedLibrary.with(sizes: [32 << 20], rangeRequests: true) { library in
            let video = library.videos[0]
            let source = try library.source(video)
            try await Self.cacheThenTrickle(library, video, source, places: Self.places)
            try await library.mount { mounted in
                let path = mounted.path(video)
                let fd = try Self.openWithoutReadAhead(path)
                defer { close(fd) }
                // The head read in order: read-ahead goes on past it, and trickles.
                #expect(try await blocking("reading the head", timeout: 60) { try Self.read(fd, source, from: 0, length: Self.head) }.isEmpty)
                try await waitUntil("read-ahead to be under way", timeout: 30) { library.server.stats().streamsOpen > 0 }
                // Three more positions are kept beside the head, and the head's read-ahead goes on.
                for place in Self.places.prefix(3) {
                    #expect(try await blocking("a read", timeout: 60) { try Self.read(fd, source, from: place, length: 16 << 10) }.isEmpty)
                }
                #expect(library.server.stats().streamsOpen > 0, "the head's read-ahead still runs")
                // A fifth position replaces the oldest, the head: its ranged requests end.
                #expect(try await blocking("a read", timeout: 60) { try Self.read(fd, source, from: Self.places[3], length: 16 << 10) }.isEmpty)
                try await waitUntil("the replaced position's read-ahead to stop", timeout: 30) { library.server.stats().streamsOpen == 0 }
            }
            #expect(library.downloads(video) == 0, "Range first: no download")
        }
    }

    @Test("closing the file stops the ranged requests of its read-ahead on the server")
    func closingStopsReadAhead() async throws {
        try await CachedLibrary.with(sizes: [16 << 20], rangeRequests: true) { library in
            let video = library.videos[0]
            let source = try library.source(video)
            try await Self.cacheThenTrickle(library, video, source, places: [])
            try await library.mount { mounted in
                let fd = try Self.openWithoutReadAhead(mounted.path(video))
                var open = true
                defer { if open { close(fd) } }
                #expect(try await blocking("reading the head", timeout: 60) { try Self.read(fd, source, from: 0, length: Self.head) }.isEmpty)
                try await waitUntil("read-ahead to be under way", timeout: 30) { library.server.stats().streamsOpen > 0 }
                close(fd)
                open = false
                try await waitUntil("the read-ahead to stop", timeout: 30) { library.server.stats().streamsOpen == 0 }
            }
        }
    }
}
