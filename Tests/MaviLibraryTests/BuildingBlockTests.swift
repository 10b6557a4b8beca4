import Foundation
@testable import MaviLibrary
import Testing
import TestSupport

@Suite("Building blocks")
struct BuildingBlockTests {
    @Test("a block record survives encoding, and any damage is detected")
    func blockRecord() throws {
        let geometry = BlockGeometry(fileSize: 1_000_003, blockSize: 65_536)
        var present = BlockBitmap(count: geometry.blockCount)
        for block in [0, 3, 7, 15] { present[block] = true }
        let record = BlockRecord(geometry: geometry, present: present)
        let bytes = record.encoded()
        #expect(BlockRecord(decoding: bytes) == record)
        #expect(BlockRecord(decoding: bytes)?.present.setCount == 4)
        for index in bytes.indices {
            var damaged = bytes
            damaged[index] ^= 0x01
            #expect(BlockRecord(decoding: damaged) == nil, "a flipped bit at \(index) went unnoticed")
        }
        for length in 0..<bytes.count {
            #expect(BlockRecord(decoding: Array(bytes[0..<length])) == nil)
        }
        #expect(BlockRecord(decoding: bytes + [0]) == nil)
    }

    @Test("what origins do with Range is kept across processes; a range-less verdict for a day only")
    func rangeSupportPersists() throws {
        let work = try TemporaryDirectory(prefix: "mavifs-origins")
        defer { work.remove() }
        let file = work.appending("origins.json")
        let first = RangeSupportRegistry(file: file)
        #expect(first.support(of: "http://a:80") == .unknown)
        first.recordHonoured("http://a:80")
        first.recordIgnored("http://b:80")
        // A 200 after 206s makes an origin range-less; a later 206 does not undo that.
        first.recordHonoured("http://c:80")
        first.recordIgnored("http://c:80")
        first.recordHonoured("http://c:80")

        let next = RangeSupportRegistry(file: file)
        #expect(next.support(of: "http://a:80") == .honoured)
        #expect(next.support(of: "http://b:80") == .ignored)
        #expect(next.support(of: "http://c:80") == .ignored)
        #expect(next.support(of: "http://d:80") == .unknown)

        let dayLater = RangeSupportRegistry(file: file, now: Date().addingTimeInterval(RangeSupportRegistry.ignoredTrustedFor + 60))
        #expect(dayLater.support(of: "http://a:80") == .honoured)
        #expect(dayLater.support(of: "http://b:80") == .unknown, "probed again")

        // A damaged file is no verdict at all.
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: file))
        #expect(RangeSupportRegistry(file: file).support(of: "http://a:80") == .unknown)
    }

    @Test("block geometry: counts, bounds and the blocks a range covers")
    func geometry() {
        let geometry = BlockGeometry(fileSize: 200, blockSize: 64)
        #expect(geometry.blockCount == 4)
        #expect(geometry.length(of: 3) == 8)
        #expect(geometry.blocks(covering: 0..<1) == 0...0)
        #expect(geometry.blocks(covering: 63..<65) == 0...1)
        #expect(geometry.blocks(covering: 190..<400) == 2...3)
        #expect(geometry.blocks(covering: 200..<210) == nil)
        #expect(geometry.blocks(covering: 5..<5) == nil)
        #expect(BlockGeometry(fileSize: 0, blockSize: 64).blockCount == 0)
    }

    @Test("the LRU list evicts from the oldest, and touching renews")
    func lruOrder() {
        var lru = LRUList<Int>()
        for key in 1...5 { lru.touch(key) }
        lru.touch(2)
        lru.remove(4)
        lru.insertOldest(9)
        var order: [Int] = []
        lru.forEachFromOldest { order.append($0); return true }
        #expect(order == [9, 1, 3, 5, 2])
        var firstTwo: [Int] = []
        lru.forEachFromOldest { firstTwo.append($0); return firstTwo.count < 2 }
        #expect(firstTwo == [9, 1])
        #expect(lru.count == 5 && !lru.contains(4))
    }

    @Test("cache keys make safe, reversible file names")
    func layoutNames() {
        let layout = CacheLayout(directory: "/tmp/cache")
        let key = CacheKey(namespace: "team/a b", videoNo: "VI.1/../x", size: 42)
        let record = layout.recordFile(key)
        #expect(!record.dropFirst("/tmp/cache/v1/".count).contains(".."))
        #expect(layout.key(forRecordAt: record) == key)
        #expect(layout.key(forRecordAt: "/tmp/cache/v1/ns/other.txt") == nil)
    }

    @Test("a stream nobody waits on is kept only once it brings bytes, within the background budget and when it fits")
    func streamPolicy() {
        #expect(StreamPolicy.keepInBackground(size: 100, maxBytes: 1000, started: true, backgroundStreams: 0, maxBackground: 2))
        #expect(!StreamPolicy.keepInBackground(size: 100, maxBytes: 1000, started: false, backgroundStreams: 0, maxBackground: 2))
        #expect(!StreamPolicy.keepInBackground(size: 100, maxBytes: 1000, started: true, backgroundStreams: 2, maxBackground: 2))
        #expect(!StreamPolicy.keepInBackground(size: 600, maxBytes: 1000, started: true, backgroundStreams: 0, maxBackground: 2))
    }

    @Test("the default cache folder follows XDG")
    func defaultDirectory() {
        #expect(CacheConfiguration.defaultDirectory(environment: ["XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u"]) == "/x/cache/mavifs")
        #expect(CacheConfiguration.defaultDirectory(environment: ["HOME": "/home/u"]) == "/home/u/.cache/mavifs")
        #expect(CacheConfiguration.defaultMaxBytes(directory: "/nonexistent/deeper") >= 256 << 20)
    }
}
