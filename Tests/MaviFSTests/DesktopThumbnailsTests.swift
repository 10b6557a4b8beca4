import Foundation
import Glibc
import MaviServer
import Testing
import TestSupport
import Thumbnails

/// Desktop thumbnails of a real mount, checked with GIO as a file manager asks, and with the
/// server's count of what it served.
@Suite("Desktop thumbnails and attributes, mounted for real", .serialized, .timeLimit(.minutes(5)))
struct DesktopThumbnailsTests {
    static let samples: [Sample] = [
        Sample(name: "with space", tags: ["holiday", "beach"]),
        Sample(name: "海边 🌊 día", tags: ["holiday"]),
        Sample(name: "100% #1?x=y&z;[a]{b}", tags: ["holiday"]),
        Sample(name: "plain"),
    ]

    /// What GIO says of one file's thumbnail: its path and whether it is valid, or nil when it has none.
    static func gioThumbnail(_ path: String, cache: String) throws -> (path: String, valid: Bool)? {
        let r = try runBlocking(["gio", "info", "-a", "thumbnail::path,thumbnail::is-valid", path], timeout: 20,
                                environment: ["XDG_CACHE_HOME": cache])
        let lines = r.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let thumbnail = lines.first(where: { $0.hasPrefix("thumbnail::path: ") })?.dropFirst("thumbnail::path: ".count) else {
            return nil
        }
        return (String(thumbnail), lines.contains("thumbnail::is-valid: TRUE"))
    }

    /// No video byte left the server: no download, no file URL request, no bucket read.
    static func videoBytesFetched(_ server: LibraryServer) -> Int {
        let stats = server.stats()
        return stats.downloads.values.reduce(0, +) + stats.fileRequests.values.reduce(0, +) + stats.blobDownloads.values.reduce(0, +)
    }

    @Test("every video of a listed folder gets a thumbnail GIO takes as valid, per path, with no video byte fetched")
    func gioFindsThumbnails() async throws {
        let home = try TemporaryDirectory(prefix: "mavifs-thumbs-xdg")
        defer { home.remove() }
        let cache = ThumbnailCache(root: home.appending("thumbnails"))
        try await MountedLibrary.with(Self.samples, thumbnails: cache) { lib in
            lib.server.server.resetStats()
            for folder in ["all", "by-tag/holiday"] {
                let names = try await lib.directoryNames(folder)
                #expect(names.count == (folder == "all" ? Self.samples.count : 3))
                for name in names {
                    let path = lib.path(folder + "/" + name)
                    // GIO takes the large one when there is one (the normal one is written first).
                    let uri = try FileURI.uri(forPath: path)
                    let large = cache.path(forURI: uri, size: .large)
                    let found = try await ServerHarness.poll("a valid large thumbnail of \(folder)/\(name)", within: .seconds(30)) {
                        try await blocking { try Self.gioThumbnail(path, cache: home.path).flatMap { $0.valid && $0.path == large ? $0 : nil } }
                    }
                    // GIO found ours: the name is the MD5 of the URI it forms itself.
                    #expect(found.path == large)
                    var st = stat()
                    try #require(stat(path, &st) == 0)
                    for size in ThumbnailSize.allCases {
                        let keys = try #require(ThumbnailImage.textKeys(of: cache.path(forURI: uri, size: size)))
                        #expect(keys["Thumb::URI"] == uri)
                        #expect(keys["Thumb::MTime"] == String(st.st_mtim.tv_sec))
                        #expect(keys["Thumb::Size"] == String(st.st_size))
                        #expect(keys["Thumb::Mimetype"] == "video/mp4")
                        #expect(keys["Thumb::Movie::Length"] != nil)
                    }
                }
            }
            #expect(Self.videoBytesFetched(lib.server.server) == 0)
        }
    }

    @Test("rm takes a video's thumbnails with it, in every folder that showed it")
    func removedWithTheVideo() async throws {
        let home = try TemporaryDirectory(prefix: "mavifs-thumbs-rm")
        defer { home.remove() }
        let cache = ThumbnailCache(root: home.appending("thumbnails"))
        try await MountedLibrary.with(Self.samples, allowDelete: true, thumbnails: cache) { lib in
            let name = try #require(try await lib.directoryNames("by-tag/beach").first)
            let paths = [lib.path("all/" + name), lib.path("by-tag/beach/" + name), lib.path("by-tag/holiday/" + name)]
            for folder in ["all", "by-tag/beach", "by-tag/holiday"] { _ = try await lib.directoryNames(folder) }
            let thumbnails = try paths.flatMap { path in try ThumbnailSize.allCases.map { cache.path(forURI: try FileURI.uri(forPath: path), size: $0) } }
            _ = try await ServerHarness.poll("the thumbnails of \(name) in three folders", within: .seconds(30)) {
                thumbnails.allSatisfy { FileManager.default.fileExists(atPath: $0) } ? true : nil
            }
            let removed = try await run(["rm", paths[0]], timeout: 20)
            #expect(removed.succeeded, "\(removed.stderr)")
            for thumbnail in thumbnails {
                #expect(!FileManager.default.fileExists(atPath: thumbnail), "\(thumbnail)")
            }
            // The other videos keep theirs.
            let other = try #require(try await lib.directoryNames("all").first { $0 != name })
            #expect(FileManager.default.fileExists(atPath: cache.path(forURI: try FileURI.uri(forPath: lib.path("all/" + other)), size: .normal)))
        }
    }

    @Test("a video deleted elsewhere takes its thumbnail with it when the folder is listed again")
    func removedWhenGoneFromTheListing() async throws {
        let home = try TemporaryDirectory(prefix: "mavifs-thumbs-gone")
        defer { home.remove() }
        let cache = ThumbnailCache(root: home.appending("thumbnails"))
        try await MountedLibrary.with(Self.samples, listTTL: .seconds(1), thumbnails: cache) { lib in
            let names = try await lib.directoryNames("all")
            let thumbnails = try names.map { cache.path(forURI: try FileURI.uri(forPath: lib.path("all/" + $0)), size: .large) }
            _ = try await ServerHarness.poll("the thumbnails of all/", within: .seconds(30)) {
                thumbnails.allSatisfy { FileManager.default.fileExists(atPath: $0) } ? true : nil
            }
            let gone = try #require(names.first { $0.hasPrefix("plain") })
            let videoNo = try await blocking { try xattr(lib.path("all/" + gone), "user.mavi.video_no") }
            try await lib.client.deleteVideos([videoNo])
            // Listed again until the listing (trusted for a second) no longer shows it.
            _ = try await ServerHarness.poll("\(gone) to leave all/", within: .seconds(30)) {
                try await lib.directoryNames("all").contains(gone) ? nil : true
            }
            for (name, thumbnail) in zip(names, thumbnails) {
                #expect(FileManager.default.fileExists(atPath: thumbnail) == (name != gone), "\(name)")
            }
        }
    }

    @Test("GIO tells each file's type from its name: asking everything of every file reads no video byte")
    func typesWithoutSniffing() async throws {
        try await MountedLibrary.with(Self.samples) { lib in
            lib.server.server.resetStats()
            for name in try await lib.directoryNames("all") {
                let info = try await run(["gio", "info", lib.path("all/" + name)], timeout: 20)
                #expect(info.stdout.contains("standard::content-type: video/mp4"), "\(info.stdout)")
            }
            let listed = try await run(["gio", "list", "-a", "standard::content-type,standard::fast-content-type", lib.path("all")], timeout: 20)
            #expect(listed.succeeded)
            #expect(Self.videoBytesFetched(lib.server.server) == 0)
        }
    }

    @Test("user.xdg.tags, user.xdg.comment, user.xdg.origin.url and user.mime_type, as getfattr reads them")
    func desktopAttributes() async throws {
        try await MountedLibrary.with(Self.samples) { lib in
            let name = try #require(try await lib.directoryNames("by-tag/beach").first)
            let path = lib.path("all/" + name)
            let videoNo = try await blocking { try xattr(path, "user.mavi.video_no") }
            let video = try #require(try await lib.client.allVideos(filter: .init(videoNo: videoNo)).first)
            let tags = try await blocking { try xattr(path, "user.xdg.tags") }
            #expect(Set(tags.split(separator: ",").map(String.init)) == Set(video.tags))
            #expect(tags.contains("holiday") && tags.contains("beach"))
            #expect(try await blocking { try xattr(path, "user.xdg.comment") } == video.videoName)
            #expect(try await blocking { try xattr(path, "user.xdg.origin.url") } == video.videoURL)
            #expect(try await blocking { try xattr(path, "user.mime_type") } == "video/mp4")
            let listed = try await run(["getfattr", "-d", "-m", "^user\\.(xdg|mime)", path], timeout: 20)
            for key in ["user.xdg.tags=", "user.xdg.comment=", "user.xdg.origin.url=", "user.mime_type=\"video/mp4\""] {
                #expect(listed.stdout.contains(key), "\(listed.stdout)")
            }
        }
    }

    @Test(".sh_thumbnails/normal|large hold <md5 of the file name>.png for each video, read-only, unlisted, with the file's name and mtime")
    func sharedRepository() async throws {
        try await MountedLibrary.with(Self.samples) { lib in
            for folder in ["all", "by-tag/holiday", "by-id"] {
                let names = try await lib.directoryNames(folder)
                #expect(!names.contains(".sh_thumbnails"), "found by name only, never listed")
                for size in ThumbnailSize.allCases {
                    let repository = lib.path("\(folder)/.sh_thumbnails/\(size.folderName)")
                    let listed = try await lib.directoryNames("\(folder)/.sh_thumbnails/\(size.folderName)")
                    #expect(Set(listed) == Set(names.map(FileURI.sharedThumbnailName(forFileName:))))
                    for name in names {
                        let thumbnail = repository + "/" + FileURI.sharedThumbnailName(forFileName: name)
                        var video = stat(), st = stat()
                        try #require(stat(lib.path(folder + "/" + name), &video) == 0)
                        try #require(stat(thumbnail, &st) == 0, "\(thumbnail)")
                        #expect(st.st_mode & 0o222 == 0 && st.st_size > 0)
                        let keys = try #require(ThumbnailImage.textKeys(of: thumbnail))
                        #expect(keys["Thumb::URI"] == (try FileURI.relativeURI(forFileName: name)))
                        #expect(keys["Thumb::MTime"] == String(video.st_mtim.tv_sec))
                        #expect(keys["Thumb::Size"] == String(video.st_size))
                        let probe = try await run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,pix_fmt", "-of", "csv=p=0",
                                                   thumbnail], timeout: 20)
                        #expect(probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("png,"), "\(probe.stdout)")
                        #expect(probe.stdout.contains(",rgba"), "\(probe.stdout)")
                    }
                    let written = FileManager.default.createFile(atPath: repository + "/new.png", contents: Data([1]))
                    #expect(!written, "the repository is read-only")
                }
            }
            #expect(Self.videoBytesFetched(lib.server.server) == 0)
        }
    }
}
