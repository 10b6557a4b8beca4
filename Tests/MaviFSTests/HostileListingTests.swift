import Foundation
import Glibc
import MaviAPI
import MaviClient
import MaviFS
@testable import MaviServer
import Testing
import TestSupport

/// A listing is input from the network: names with `/`, `..`, NUL and control characters, 10 KB
/// strings, hostile video numbers, negative and absurd sizes. The mount shows them as safe names,
/// reads what can be read, fails the rest with EIO, and writes nothing outside its cache.
@Suite("Hostile listings on a real mount", .serialized, .timeLimit(.minutes(3)))
struct HostileListingTests {
    static let hostileNames = [
        "a/b/../../etc/passwd", "..", ".", "/", "", "nul\u{0}inside", "ctl\u{1}\u{7}\u{1b}[31mred\n\ttab\r\u{7f}",
        String(repeating: "é", count: 5_120), String(repeating: "x", count: 10_240), "\u{202E}evil\u{FEFF}.mp4", "-rf", "same", "same",
    ]
    /// (The server's store cannot hold a NUL in a tag; NUL in names is covered by the naming fuzz.)
    static let hostileTags = ["../..", "a/b", "\u{1}", ".", "..", String(repeating: "t", count: 10_240), "ok tag"]
    static let hostileCameras = ["../../cam", String(repeating: "c", count: 10_240), "\n"]
    /// (video_no, size): none has a file on the server.
    static let hostileRecords: [(String, Int64)] = [
        ("../../outside", 1000), ("a/b", 1000), ("..", 1000), (String(repeating: "9", count: 400), 1000),
        ("negative", -5), ("absurd", Int64.max), ("empty", 0), ("nul\u{0}no", 1000),
    ]

    @Test("hostile names, tags, cameras, numbers and sizes: safe names, right bytes or EIO, nothing outside the cache")
    func hostileListing() async throws {
        try await SeededMount.with(videoCount: Self.hostileNames.count, videoSize: 200_000) { mount in
            let database = try LibraryDatabase(path: LibraryLayout(root: mount.server.libraryDirectory).database)
            for (i, video) in mount.videos.enumerated() {
                _ = try await database.update(video.videoNo, tagsToAppend: Self.hostileTags) { record in
                    record.videoName = Self.hostileNames[i]
                    record.cameraModel = Self.hostileCameras[i % Self.hostileCameras.count]
                }
            }
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            try await database.insert(batch: Self.hostileRecords.map { no, size in
                VideoRecord(
                    videoNo: no, namespace: APILimits.defaultNamespace, videoName: "hostile \(no.prefix(20))", fileExtension: "mp4",
                    size: size, status: VideoStatus.parsed.wireValue, cause: nil, createTime: now, duration: 1, fps: 25, width: 16,
                    height: 16, datetimeTaken: nil, cameraModel: Self.hostileCameras[1], latitude: nil, longitude: nil,
                    callbackURL: nil, retainOriginal: true, hasOriginal: false, hasCover: false, sourceURL: nil, tags: Self.hostileTags)
            })
            let total = mount.videos.count + Self.hostileRecords.count

            // Every name in the tree is one safe directory entry.
            let find = try await run(["find", mount.mountpoint, "-print0"], timeout: 60)
            #expect(find.succeeded, "\(find.stderr)")
            let paths = find.stdoutBytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            for path in paths {
                #expect(path.hasPrefix(mount.mountpoint))
                for component in path.dropFirst(mount.mountpoint.count).split(separator: "/") {
                    #expect(component.utf8.count <= 255, "a name of \(component.utf8.count) bytes")
                    #expect(component != "." && component != "..")
                    #expect(!component.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "\(component.debugDescription)")
                }
            }
            let all = try await blocking { try FileManager.default.contentsOfDirectory(atPath: mount.path("all")) }
            let byID = try await blocking { try FileManager.default.contentsOfDirectory(atPath: mount.path("by-id")) }
            #expect(all.count == total)
            #expect(byID.count == total)
            #expect(Set(all).count == total, "names are unique")
            let tags = try await blocking { try FileManager.default.contentsOfDirectory(atPath: mount.path("by-tag")) }
            #expect(Set(tags).isSuperset(of: [".._..", "a_b", "_", "_.", "_..", "ok tag", String(repeating: "t", count: 255)]), "\(tags)")
            for tag in tags {
                let listed = try await blocking { try FileManager.default.contentsOfDirectory(atPath: mount.path("by-tag/\(tag)")) }
                #expect(!listed.isEmpty, "by-tag/\(tag.debugDescription)")
            }

            // Each name leads to its video: the xattr names the number the server gave.
            var numbers: Set<String> = []
            for name in all {
                let path = mount.path("all/\(name)")
                let value = try await blocking { try xattr(path, "user.mavi.video_no") }
                numbers.insert(value)
            }
            let expected = Set(mount.videos.map(\.videoNo) + Self.hostileRecords.map(\.0))
            // getfattr prints the value as text; a NUL inside a number ends it there.
            #expect(numbers.count == total, "\(numbers.symmetricDifference(expected))")

            // Sizes as the kernel sees them.
            let sizes = try await blocking { () -> [String: Int64] in
                var out: [String: Int64] = [:]
                for no in ["negative", "absurd", "empty"] {
                    var st = stat()
                    if stat(mount.path("by-id/\(no).mp4"), &st) == 0 { out[no] = Int64(st.st_size) }
                }
                return out
            }
            #expect(sizes == ["negative": 0, "absurd": Int64.max, "empty": 0])

            // Named videos read right; videos without a file fail with EIO, wherever the offset.
            for video in mount.videos {
                let tally = try await blocking(timeout: 60) { checkedRead(mount.path(video.byID), source: video.source) }
                #expect(tally.failures.isEmpty && tally.wrongReads == 0, "\(tally)")
            }
            for (no, offset) in [("absurd", Int64.max - 4096), ("absurd", 0), ("../../outside", 0), ("a/b", 0)] {
                let name = FileNaming.idNameForTest(no)
                let outcome = try await blocking(timeout: 60) { () -> Int32 in
                    let fd = open(mount.path("by-id/\(name)"), O_RDONLY | O_CLOEXEC)
                    guard fd >= 0 else { return errno }
                    defer { close(fd) }
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    return pread(fd, &buffer, 4096, off_t(offset)) < 0 ? errno : 0
                }
                #expect(outcome == EIO, "\(no) at \(offset): \(String(cString: strerror(outcome)))")
            }
            let long = FileNaming.idNameForTest(String(repeating: "9", count: 400))
            #expect(long.utf8.count <= 255)

            // The mount is still whole, and the cache wrote only inside its folder.
            #expect(try await blocking { try FileManager.default.contentsOfDirectory(atPath: mount.mountpoint) }.count == 6)
            let work = (mount.cacheDirectory as NSString).deletingLastPathComponent
            let written = try await blocking { try FileManager.default.subpathsOfDirectory(atPath: work) }
            for path in written where !path.hasPrefix("source-") {
                #expect(path == "cache" || path.hasPrefix("cache/"), "\(path)")
                #expect(!path.split(separator: "/").contains(".."))
            }
            #expect(!FileManager.default.fileExists(atPath: (work as NSString).deletingLastPathComponent + "/outside"))
            reportFigure("hostile listing", "\(paths.count) paths found, \(total) videos, \(tags.count) tag folders; \(written.count) files written, all in the cache")
        }
    }
}

extension FileNaming {
    /// The `by-id` name of a video numbered `videoNo` with an `.mp4` file.
    static func idNameForTest(_ videoNo: String) -> String {
        idName(Video(videoNo: videoNo, videoName: "", status: .parsed))
    }
}
