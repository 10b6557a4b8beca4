import Foundation
import MaviAPI
import MaviLibrary
import Synchronization
import Testing
import TestSupport

/// A cover source that counts its fetches and answers after a short pause, so concurrent askers overlap.
private final class CountingCovers: CoverSource {
    let fetches = Mutex(0)
    let bytes: [UInt8]
    init(bytes: [UInt8]) { self.bytes = bytes }

    func cover(_ url: URL, maxBytes: Int) async throws -> [UInt8] {
        fetches.withLock { $0 += 1 }
        try await Task.sleep(for: .milliseconds(100))
        return bytes
    }
}

@Suite("Cover frames on disk")
struct CoverStoreTests {
    private func video(_ no: String, cover: String? = "http://127.0.0.1:9/covers/x.jpg") -> Video {
        Video(videoNo: no, videoName: "clip", status: .parsed, coverURL: cover)
    }

    @Test("concurrent askers share one fetch; later reads come from disk, at any offset")
    func sharedFetch() async throws {
        let dir = try TemporaryDirectory(prefix: "mavifs-covers")
        defer { dir.remove() }
        let jpeg: [UInt8] = [0xFF, 0xD8] + (0..<5000).map { UInt8($0 % 251) }
        let source = CountingCovers(bytes: jpeg)
        let store = CoverStore(directory: dir.appending("covers"), source: source)
        let v = video("VI123")
        #expect(store.storedSize(videoNo: "VI123") == nil)
        let reads = try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for _ in 0..<8 { group.addTask { try await store.read(v, offset: 0, size: 10_000) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(reads.allSatisfy { $0 == jpeg })
        #expect(source.fetches.withLock { $0 } == 1)
        #expect(store.storedSize(videoNo: "VI123") == jpeg.count)
        #expect(try await store.read(v, offset: 4000, size: 2000) == Array(jpeg[4000...]))
        #expect(source.fetches.withLock { $0 } == 1)
    }

    @Test("a video number that could name another path, or a missing cover URL, is refused without a fetch",
          arguments: ["../../etc/passwd", "a/b", "", ".", "VI 1", String(repeating: "9", count: 300)])
    func refused(videoNo: String) async throws {
        let dir = try TemporaryDirectory(prefix: "mavifs-covers")
        defer { dir.remove() }
        let source = CountingCovers(bytes: [1])
        let store = CoverStore(directory: dir.appending("covers"), source: source)
        await #expect(throws: CoverError.self) { _ = try await store.coverFile(for: video(videoNo)) }
        await #expect(throws: CoverError.self) { _ = try await store.coverFile(for: video("VI1", cover: nil)) }
        await #expect(throws: CoverError.self) { _ = try await store.coverFile(for: video("VI1", cover: "file:///etc/passwd")) }
        #expect(source.fetches.withLock { $0 } == 0)
        #expect(!FileManager.default.fileExists(atPath: dir.appending("covers")))
    }

    @Test("a namespace cannot lead the cover directory out of the cache")
    func namespaceDirectory() {
        #expect(CoverStore.directory(cache: "/c", namespace: "../../x") == "/c/covers/%2E%2E%2F%2E%2E%2Fx")
        #expect(CoverStore.directory(cache: "/c", namespace: "default") == "/c/covers/default")
    }
}
