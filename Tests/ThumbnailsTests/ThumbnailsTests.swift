import Foundation
import Glibc
import Testing
import TestSupport
import Thumbnails

/// Thumbnails made from an image on a local disk, checked with GIO, ffprobe and the standard.
@Suite("Thumbnails in the Thumbnail Managing Standard's cache", .serialized, .timeLimit(.minutes(2)))
struct ThumbnailsTests {
    /// Names a URI must escape, and names it must not.
    static let names = ["plain.mp4", "with space.mp4", "海边 🌊 día.mp4", "100% #1?x=y&z;[a]{b}.mp4", "quote'\"`+,=@$!~.mp4"]

    /// A 1280×720 JPEG, as a service's cover frame would be.
    static func makeCover(in dir: TemporaryDirectory) throws -> String {
        let cover = dir.appending("cover.jpg")
        let r = try runBlocking(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=1280x720", "-frames:v", "1", cover], timeout: 30)
        guard r.succeeded else { throw FFmpegError(stderr: r.stderr) }
        return cover
    }

    struct FFmpegError: Error { let stderr: String }

    @Test("URIs and their MD5 are GIO's own, for names with spaces, unicode and characters URIs escape")
    func urisAgreeWithGIO() throws {
        let dir = try TemporaryDirectory(prefix: "mavifs-thumbs-uri")
        defer { dir.remove() }
        for name in Self.names {
            let path = dir.appending(name)
            #expect(FileManager.default.createFile(atPath: path, contents: Data()))
            let info = try runBlocking(["gio", "info", "-a", "standard::name", path], timeout: 20)
            try #require(info.succeeded, "\(info.stderr)")
            let gioURI = info.stdout.split(separator: "\n").first { $0.hasPrefix("uri: ") }.map { String($0.dropFirst(5)) }
            let ours = try FileURI.uri(forPath: path)
            #expect(ours == gioURI, "\(name)")
            let md5 = try runBlocking(["sh", "-c", "printf %s \"$1\" | md5sum", "sh", ours], timeout: 10)
            #expect(FileURI.md5(ours) == String(md5.stdout.prefix(32)))
        }
    }

    @Test("each thumbnail is an RGBA PNG of 128 or 256 pixels with the standard's keys, 0600 in 0700 folders, and GIO takes it as valid")
    func gioFindsValidThumbnails() throws {
        let dir = try TemporaryDirectory(prefix: "mavifs-thumbs")
        defer { dir.remove() }
        let cover = try Self.makeCover(in: dir)
        let cache = ThumbnailCache(root: dir.appending("xdg-cache/thumbnails"))
        let environment = ["XDG_CACHE_HOME": dir.appending("xdg-cache")]
        for name in Self.names {
            let path = dir.appending(name)
            #expect(FileManager.default.createFile(atPath: path, contents: Data(repeating: 7, count: 1234)))
            var st = stat()
            try #require(stat(path, &st) == 0)
            let facts = ThumbnailFacts(uri: try FileURI.uri(forPath: path), mtime: st.st_mtim.tv_sec, size: 1234, mimeType: "video/mp4",
                                       movieLength: 42)
            try cache.write(from: cover, facts: facts)
            for size in ThumbnailSize.allCases {
                let thumbnail = cache.path(forURI: facts.uri, size: size)
                #expect(cache.isCurrent(facts, size: size))
                let keys = try #require(ThumbnailImage.textKeys(of: thumbnail))
                #expect(keys == ["Thumb::URI": facts.uri, "Thumb::MTime": String(st.st_mtim.tv_sec), "Thumb::Size": "1234",
                                 "Thumb::Mimetype": "video/mp4", "Thumb::Movie::Length": "42"])
                let probe = try runBlocking(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height,pix_fmt",
                                             "-of", "csv=p=0", thumbnail], timeout: 20)
                #expect(probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "png,\(size.pixels),\(size.pixels * 9 / 16),rgba")
                var t = stat()
                try #require(stat(thumbnail, &t) == 0)
                #expect(t.st_mode & 0o777 == 0o600)
                try #require(stat(cache.root + "/" + size.folderName, &t) == 0)
                #expect(t.st_mode & 0o777 == 0o700)
            }
            let info = try runBlocking(["gio", "info", "-a", "thumbnail::path,thumbnail::is-valid", path], timeout: 20, environment: environment)
            #expect(info.stdout.contains("thumbnail::path: " + cache.path(forURI: facts.uri, size: .large)), "\(info.stdout)")
            #expect(info.stdout.contains("thumbnail::is-valid: TRUE"), "\(info.stdout)")
        }
        // Nothing is left under a temporary name.
        for size in ThumbnailSize.allCases {
            let files = try FileManager.default.contentsOfDirectory(atPath: cache.root + "/" + size.folderName)
            #expect(files.count == Self.names.count && files.allSatisfy { $0.hasSuffix(".png") && $0.count == 36 })
        }
    }

    @Test("a thumbnail made for another mtime or size is not current; removing takes every size")
    func staleAndRemoved() throws {
        let dir = try TemporaryDirectory(prefix: "mavifs-thumbs-stale")
        defer { dir.remove() }
        let cover = try Self.makeCover(in: dir)
        let cache = ThumbnailCache(root: dir.appending("thumbnails"))
        let facts = ThumbnailFacts(uri: "file:///mnt/videos/all/a.mp4", mtime: 1_700_000_000, size: 10, mimeType: "video/mp4")
        try cache.write(from: cover, facts: facts)
        var later = facts
        later.mtime += 1
        var bigger = facts
        bigger.size += 1
        #expect(cache.isCurrent(facts, size: .normal) && cache.isCurrent(facts, size: .large))
        #expect(!cache.isCurrent(later, size: .normal) && !cache.isCurrent(bigger, size: .large))
        cache.remove(uri: facts.uri)
        for size in ThumbnailSize.allCases {
            #expect(!FileManager.default.fileExists(atPath: cache.path(forURI: facts.uri, size: size)))
        }
    }

    @Test("a cover smaller than a size is kept at its size, not blown up; a file that is no image is an error")
    func smallAndBroken() throws {
        let dir = try TemporaryDirectory(prefix: "mavifs-thumbs-small")
        defer { dir.remove() }
        let small = dir.appending("small.jpg")
        _ = try runBlocking(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=200x100", "-frames:v", "1", small], timeout: 30)
        let cache = ThumbnailCache(root: dir.appending("thumbnails"))
        let facts = ThumbnailFacts(uri: "file:///x.mp4", mtime: 1, size: 1, mimeType: "video/mp4")
        try cache.write(from: small, facts: facts)
        let probe = try runBlocking(["ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0",
                                     cache.path(forURI: facts.uri, size: .large)], timeout: 20)
        #expect(probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "200,100")
        let broken = dir.appending("broken.jpg")
        #expect(FileManager.default.createFile(atPath: broken, contents: Data("not a jpeg".utf8)))
        #expect(throws: ThumbnailError.self) { try cache.write(from: broken, facts: facts) }
    }

    @Test("the cache is $XDG_CACHE_HOME/thumbnails, else ~/.cache/thumbnails")
    func cacheLocation() {
        #expect(ThumbnailCache.ofCurrentUser(environment: ["XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u"]).root == "/x/cache/thumbnails")
        #expect(ThumbnailCache.ofCurrentUser(environment: ["HOME": "/home/u"]).root == "/home/u/.cache/thumbnails")
        // A relative XDG_CACHE_HOME is ignored, as the base directory specification says.
        #expect(ThumbnailCache.ofCurrentUser(environment: ["XDG_CACHE_HOME": "rel", "HOME": "/home/u"]).root == "/home/u/.cache/thumbnails")
    }
}
