import Foundation
import MaviAPI
import MaviClient
import Synchronization
@testable import MaviLibrary
import TestSupport
import Testing

/// The cache outlives the server connection and the process: what it holds is served without
/// a request, and a damaged or half-written cache is used correctly or discarded.
@Suite("Persistence", .timeLimit(.minutes(5)))
struct PersistenceTests {
    @Test("a second read after the server stopped is served from the cache")
    func readAfterServerStopped() async throws {
        let work = try TemporaryDirectory(prefix: "mavifs-library-offline")
        defer { work.remove() }
        let sourcePath = work.appending("source.mp4")
        try VideoFixtures.makeNonVideo(at: sourcePath, count: 900_000, seed: 9)
        let source = [UInt8](try Data(contentsOf: URL(fileURLWithPath: sourcePath)))
        let cache = CacheConfiguration(directory: work.appending("cache"), maxBytes: 64 << 20, blockSize: testBlockSize, readTimeout: .seconds(120))
        let clientTimeouts = Timeouts(connect: .seconds(30), request: .seconds(120), idleRead: .seconds(60), connectionIdle: .seconds(180))

        // The client and reader outlive the server: they are created inside and used after. The
        // client must be shut down on every path (it traps if dropped while open).
        let clientBox = Mutex<MaviClient?>(nil)
        do {
            let (reader, video) = try await ServerHarness.withServer { running in
                try await running.server.seedVideos(count: 1, namespace: "offline", sourceFile: sourcePath)
                let client = MaviClient(configuration: ClientConfiguration(
                    endpoint: URL(string: running.baseURL)!, namespace: "offline", apiKey: try APIKey(running.apiKey),
                    timeouts: clientTimeouts, retry: .never, pacing: .unlimited))
                clientBox.withLock { $0 = client }
                let reader = try VideoReader(client: client, namespace: "offline", configuration: cache, logger: testLogger("mavifs.library.test"))
                let video = try #require(try await client.allVideos().first)
                let bytes = try await readSequentially(reader, video)
                #expect(bytes == source)
                return (reader, video)
            }
            try await withReader(reader) { reader in
                let again = try await readSequentially(reader, video, chunk: 33_333)
                #expect(again == source)
                let random = try await reader.read(video, offset: 123_456, size: 200_000)
                #expect(random[...] == source[123_456..<323_456])
                // The server honours Range: the first read came by ranged requests, none by a download.
                #expect(reader.stats().downloadsStarted == 0)
            }
        } catch {
            try? await clientBox.withLock { $0 }?.shutdown()
            throw error
        }
        try await clientBox.withLock { $0 }?.shutdown()
    }

    @Test("a new reader on the same folder serves the cache without a download", arguments: [true, false])
    func newReaderServesCache(rangeRequests: Bool) async throws {
        try await LibraryFixture.with(videos: 2, size: 1_200_000, rangeRequests: rangeRequests) { fixture in
            try await withReader(fixture.makeReader()) { reader in
                for video in fixture.videos { 
                    let readBack = try await readSequentially(reader, video)
                    #expect(readBack == fixture.source)
                }
            }
            fixture.server.resetStats()
            try await withReader(fixture.makeReader()) { reader in
                let loaded = reader.stats()
                #expect(loaded.files == 2 && loaded.completeFiles == 2)
                #expect(loaded.bytesCached == Int64(2 * fixture.source.count))
                for video in fixture.videos { 
                    let readBack = try await readSequentially(reader, video, chunk: 65_536)
                    #expect(readBack == fixture.source)
                }
                #expect(reader.stats().bytesFromNetwork == 0)
            }
            let stats = fixture.server.stats()
            #expect(stats.downloads.isEmpty && stats.fileRequests.isEmpty)
        }
    }

    @Test("a partly read video keeps its blocks across readers and completes with the rest")
    func partialCacheIsCompleted() async throws {
        try await LibraryFixture.with(size: 2_000_000, rangeRequests: false) { fixture in
            let video = fixture.videos[0]
            // Stall the download after 700 kB: the first reader caches what came, then stops.
            fixture.server.setFaults(.init(stallAfterBytes: 700_000, stallCount: 1, endpoints: [.download]))
            try await withReader(fixture.makeReader(fixture.configuration(readTimeout: .seconds(60)))) { reader in
                let head = try await reader.read(video, offset: 0, size: 600_000)
                #expect(head[...] == fixture.source[0..<600_000])
            }
            let recordPath = try #require(cacheRecordFiles(fixture.cacheDirectory).first)
            let first = try #require(CacheFiles.readRecord(at: recordPath))
            #expect(first.present.setCount >= 600_000 / testBlockSize)
            #expect(first.present.setCount < first.geometry.blockCount)
            fixture.server.setFaults(.init())
            try await withReader(fixture.makeReader()) { reader in
                let readBack = try await readSequentially(reader, video)
                #expect(readBack == fixture.source)
            }
            #expect(fixture.downloads(video) == 2)
        }
    }

    @Test("a damaged record is discarded, and the video is fetched again correctly", arguments: RecordDamage.allCases)
    func damagedRecord(damage: RecordDamage) async throws {
        try await LibraryFixture.with(size: 1_000_000, rangeRequests: false) { fixture in
            let video = fixture.videos[0]
            try await withReader(fixture.makeReader()) { reader in
                let readBack = try await readSequentially(reader, video)
                #expect(readBack == fixture.source)
            }
            let record = try #require(cacheRecordFiles(fixture.cacheDirectory).first)
            try damage.apply(toRecordAt: record)
            try await withReader(fixture.makeReader()) { reader in
                let loaded = reader.stats().bytesCached
                switch damage {
                case .blocksMarkedIncomplete:
                    #expect(loaded > 0 && loaded < Int64(fixture.source.count), "the blocks still named are used")
                default:
                    #expect(loaded == 0, "nothing is trusted")
                }
                let readBack = try await readSequentially(reader, video)
                #expect(readBack == fixture.source)
            }
            #expect(fixture.downloads(video) == 2)
        }
    }

    @Test("a data file that lost its bytes under an intact record is not trusted")
    func dataFileReplaced() async throws {
        try await LibraryFixture.with(size: 800_000, rangeRequests: false) { fixture in
            let video = fixture.videos[0]
            try await withReader(fixture.makeReader()) { reader in
                let readBack = try await readSequentially(reader, video)
                #expect(readBack == fixture.source)
            }
            // Truncated: another length than the key's, so the record is discarded.
            let data = try #require(cacheDataFiles(fixture.cacheDirectory).first).path
            #expect(truncate(data, 1000) == 0)
            try await withReader(fixture.makeReader()) { reader in
                let readBack = try await readSequentially(reader, video)
                #expect(readBack == fixture.source)
            }
            // Removed while the reader runs: blocks the record named are forgotten, not read as zeros.
            try await withReader(fixture.makeReader()) { reader in
                #expect(unlink(data) == 0)
                let readBack = try await readSequentially(reader, video)
                #expect(readBack == fixture.source)
            }
            #expect(fixture.downloads(video) == 3)
        }
    }

    @Test("a cache copied mid-download, as a crash leaves it, gives correct bytes")
    func crashSnapshot() async throws {
        try await LibraryFixture.with(size: 3_000_000, rangeRequests: false) { fixture in
            let video = fixture.videos[0]
            let snapshot = fixture.cacheDirectory + "-snapshot"
            defer { try? FileManager.default.removeItem(atPath: snapshot) }
            // Slow the download so the snapshot lands in the middle of it.
            fixture.server.setFaults(.init(stallAfterBytes: 1_700_000, stallCount: 1, stallMs: 60_000, endpoints: [.download]))
            let reader = try fixture.makeReader()
            try await withReader(reader) { reader in
                _ = try await reader.read(video, offset: 0, size: 1_000_000)
                try await waitUntil("a record naming some blocks", timeout: 10) {
                    let records = cacheRecordFiles(fixture.cacheDirectory)
                    return records.first.flatMap { CacheFiles.readRecord(at: $0) }.map { $0.present.setCount > 4 } ?? false
                }
                // The record first, then the data: the data copy holds at least what the record names,
                // as after a SIGKILL (the page cache keeps every completed write).
                let root = (snapshot as NSString).appendingPathComponent("v1")
                for record in cacheRecordFiles(fixture.cacheDirectory) {
                    let relative = String(record.dropFirst((fixture.cacheDirectory as NSString).appendingPathComponent("v1").count))
                    let target = root + relative
                    try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                    try FileManager.default.copyItem(atPath: record, toPath: target)
                    let data = String(record.dropLast(".blocks".count)) + ".data"
                    try FileManager.default.copyItem(atPath: data, toPath: String(target.dropLast(".blocks".count)) + ".data")
                }
            }
            fixture.server.setFaults(.init())
            var configuration = fixture.configuration()
            configuration.directory = snapshot
            try await withReader(fixture.makeReader(configuration)) { reader in
                let loaded = reader.stats()
                #expect(loaded.bytesCached > 0 && loaded.completeFiles == 0)
                let readBack = try await readSequentially(reader, video)
                #expect(readBack == fixture.source)
            }
        }
    }

    @Test("two readers cannot share one cache folder")
    func exclusiveFolder() async throws {
        try await LibraryFixture.with(size: 100_000) { fixture in
            try await withReader(fixture.makeReader()) { _ in
                #expect(throws: CacheDirectoryError.self) { _ = try fixture.makeReader() }
            }
            // Released at shutdown, even while the first reader is still referenced (a mount keeps
            // its file system, and so its reader, until the process ends).
            let first = try fixture.makeReader()
            await first.shutdown()
            try await withReader(fixture.makeReader()) { _ in }
            withExtendedLifetime(first) {}
        }
    }
}

/// Ways a record can be left by a crash or damaged on disk.
enum RecordDamage: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case truncated
    case bitFlipped
    case emptied
    /// Rewritten intact but naming fewer blocks, as a record written before the last blocks were.
    case blocksMarkedIncomplete

    var testDescription: String { rawValue }

    func apply(toRecordAt path: String) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        switch self {
        case .truncated: bytes.removeLast(bytes.count / 2)
        case .bitFlipped: bytes[bytes.count / 2] ^= 0x10
        case .emptied: bytes = []
        case .blocksMarkedIncomplete:
            var record = try #require(BlockRecord(decoding: bytes))
            for block in stride(from: 0, to: record.geometry.blockCount, by: 3) { record.present[block] = false }
            bytes = record.encoded()
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}
