import Foundation
import GRDB
import Logging
import MaviAPI
import MaviClient
@testable import MaviLibrary
import Synchronization
import Testing
import TestSupport

/// The listing kept between mounts: served at once by the next mount, never served wrong.
@Suite("The listing store", .timeLimit(.minutes(2)))
struct ListingStoreTests {
    static let logger = Logger(label: "mavifs.test.listings")

    static func videos(_ count: Int, prefix: String = "VI") -> [Video] {
        (0..<count).map { i in
            var video = Video(videoNo: "\(prefix)\(i)", videoName: "clip \(i).mp4", status: i % 3 == 0 ? .unparsed : .parsed)
            video.size = Int64(1000 + i)
            video.tags = ["t\(i % 4)", "beach"]
            video.cameraModel = i % 2 == 0 ? "Canon" : nil
            video.datetimeTaken = 1_700_000_000_000 + Int64(i)
            video.videoURL = "http://127.0.0.1:9/v/\(i).mp4"
            return video
        }
    }

    @Test("a saved listing comes back whole and in order; saving again replaces it")
    func roundTrip() throws {
        let work = try TemporaryDirectory(prefix: "mavifs-listings")
        defer { work.remove() }
        let path = work.appending("listings/a.sqlite")
        let store = try ListingStore(path: path, logger: Self.logger)
        #expect(store.load() == nil, "nothing saved yet")
        let first = Self.videos(500)
        let when = Date(timeIntervalSince1970: 1_800_000_000)
        try store.save(first, at: when)
        let again = try ListingStore(path: path, logger: Self.logger).load()
        #expect(again?.videos == first)
        #expect(again?.savedAt == when)
        let second = Array(Self.videos(40, prefix: "VJ").reversed())
        try store.save(second)
        #expect(try ListingStore(path: path, logger: Self.logger).load()?.videos == second)
        try store.save([Video]())
        #expect(try ListingStore(path: path, logger: Self.logger).load()?.videos == [], "an empty library is a listing too")
    }

    @Test("a damaged file, or one of another version, is made again and never served")
    func damagedOrForeign() throws {
        let work = try TemporaryDirectory(prefix: "mavifs-listings")
        defer { work.remove() }
        let path = work.appending("a.sqlite")
        try Data((0..<4096).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: path))
        let rebuilt = try ListingStore(path: path, logger: Self.logger)
        #expect(rebuilt.load() == nil)
        try rebuilt.save(Self.videos(3))
        #expect(rebuilt.load()?.videos.count == 3)

        // Another version's file: its listing is not read.
        let queue = try DatabaseQueue(path: path)
        try queue.write { try $0.execute(sql: "UPDATE meta SET value = '99' WHERE key = 'schema'") }
        try queue.close()
        #expect(try ListingStore(path: path, logger: Self.logger).load() == nil)

        // A row that no longer reads makes the whole listing unusable.
        let store = try ListingStore(path: path, logger: Self.logger)
        for damage in [
            "UPDATE videos SET tags = '9:beach' WHERE position = 1", "UPDATE videos SET tags = 'x:beach' WHERE position = 2",
            "UPDATE videos SET tags = '1:é' WHERE position = 0",
        ] {
            try store.save(Self.videos(3))
            #expect(store.load()?.videos.count == 3)
            let damaged = try DatabaseQueue(path: path)
            try damaged.write { try $0.execute(sql: damage) }
            try damaged.close()
            #expect(store.load() == nil, "after \(damage)")
        }
    }

    @Test("a catalog serves the stored listing at once, marked stale, and replaces it when its refresh lands; the refresh is saved")
    func catalogRestores() async throws {
        let work = try TemporaryDirectory(prefix: "mavifs-listings")
        defer { work.remove() }
        let path = work.appending("a.sqlite")
        let old = Self.videos(5)
        try ListingStore(path: path, logger: Self.logger).save(old)

        let server = GatedListing(Self.videos(7, prefix: "VN"))
        let store = try ListingStore(path: path, logger: Self.logger)
        let catalog = VideoCatalog(source: server, ttl: .seconds(60), store: store)
        #expect(catalog.restoredFrom != nil && catalog.isRestored)
        let first = try await catalog.list()
        #expect(first.videos == old && first.isStale, "at once, while the server has not answered")
        try await waitUntil("its refresh to start", timeout: 20) { server.calls.withLock { $0 } == 1 }

        server.open()
        let fresh = try await catalog.refreshed()
        #expect(fresh.videos == server.videos && !fresh.isStale)
        #expect(!catalog.isRestored)
        #expect(try await catalog.list().videos == server.videos)
        // One refresh, shared: a page from the top (these videos carry no upload times, so the
        // order cannot be checked), then the
        // whole listing.
        #expect(server.calls.withLock { $0 } == 2, "the refresh was shared")
        // Saved a while later, or at once when asked (a mount ending).
        await catalog.persistNow()
        #expect(store.load()?.videos == server.videos)
        #expect(try ListingStore(path: path, logger: Self.logger).load()?.videos == server.videos, "for the next mount")
    }
}

extension ListingStoreTests {
    @Test("a view's last answer is stored, and the next mount serves it at once, stale, while its fetch waits")
    func viewAnswers() async throws {
        let work = try TemporaryDirectory(prefix: "mavifs-listings")
        defer { work.remove() }
        let path = work.appending("a.sqlite")
        let videos = Self.videos(20)
        let tag = VideoFilter(tag: "t1")
        let tagged = videos.filter { tag.matchesLocally($0) ?? true }
        #expect(tagged.count >= 3)
        let view = try #require(StoredView(tag))
        #expect(StoredView(VideoFilter(videoNo: "VI1")) == nil && StoredView(VideoFilter()) == nil, "only views are kept")

        let first = GatedListing(videos)
        first.open()
        let store = try ListingStore(path: path, logger: Self.logger)
        let catalog = VideoCatalog(source: first, ttl: .seconds(60), store: store)
        _ = try await catalog.list()
        #expect(try await catalog.list(tag).videos == tagged)
        try await waitUntil("the answer to be stored", timeout: 20) { store.answer(of: view) != nil }
        #expect(store.answer(of: view) == tagged.map(\.videoNo))
        await catalog.persistNow()

        let second = GatedListing(videos)
        let next = VideoCatalog(source: second, ttl: .seconds(60), store: try ListingStore(path: path, logger: Self.logger))
        _ = try await next.list()
        let restored = try await next.list(tag)
        #expect(restored.videos == tagged && restored.isStale, "at once, while the server has not answered")
        second.open()
        let fresh = try await next.refreshed(tag)
        #expect(fresh.videos == tagged && !fresh.isStale)
    }

    @Test("a video deleted through the mount leaves the stored listing too, though the next refresh finds nothing new")
    func hiddenLeavesTheStore() async throws {
        let work = try TemporaryDirectory(prefix: "mavifs-listings")
        defer { work.remove() }
        let path = work.appending("a.sqlite")
        let videos = IncrementalRefreshTests.library(50)
        let server = PagedLibrary(videos)
        let store = try ListingStore(path: path, logger: Self.logger)
        let catalog = VideoCatalog(source: server, ttl: .zero, store: store, saveDelay: .seconds(60))
        _ = try await catalog.list()
        catalog.hide(["VI7"])
        server.replace(videos.filter { $0.videoNo != "VI7" })
        catalog.confirmDeleted(["VI7"])
        let after = try await catalog.list()
        // The same videos as before, kept as they were (what was made from them stays valid),
        // the deleted one left out by its hidden mark.
        #expect(after.shownCount == 49 && !after.shownNumbers.contains("VI7") && catalog.refreshStats.incremental == 1)
        await catalog.persistNow()
        #expect(store.load()?.videos.map(\.videoNo) == after.shownNumbers)
    }
}

/// A listing source that answers only once opened.
final class GatedListing: VideoListingSource, Sendable {
    let videos: [Video]
    let calls = Mutex(0)
    private let gate = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    init(_ videos: [Video]) {
        self.videos = videos
    }

    func open() {
        let waiters = gate.withLock { gate in
            gate.open = true
            defer { gate.waiters = [] }
            return gate.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func videos(matching filter: VideoFilter) async throws -> [Video] {
        calls.withLock { $0 += 1 }
        await withCheckedContinuation { continuation in
            let now = gate.withLock { gate -> Bool in
                if gate.open { return true }
                gate.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
        return videos.filter { filter.matchesLocally($0) ?? true }
    }

    func delete(videoNos: [String]) async throws {}
}
