import Foundation
import Glibc
import MaviAPI
import MaviClient
import MaviServer
import Testing
import TestSupport

@Suite("The library as folders, mounted for real", .serialized, .timeLimit(.minutes(5)))
struct ViewsTests {
    static let day = Date(timeIntervalSince1970: 1_729_388_400)  // 2024-10-20 01:40 UTC
    static let samples: [Sample] = [
        Sample(name: "beach day", tags: ["holiday", "beach"], camera: "Canon EOS 5D", taken: day, location: GeoPoint(latitude: 39.9042, longitude: 116.4074)),
        Sample(name: "city walk", tags: ["holiday"], camera: "Pixel 8", taken: day.addingTimeInterval(86_400 * 40)),
        Sample(name: "same", tags: ["twin"]),
        Sample(name: "same", tags: ["twin"], seconds: 2),
        Sample(name: "海边 🌊 día", tags: ["unicode"]),
    ]

    @Test("every view lists exactly what the same filter returns from the API")
    func viewsAgreeWithAPI() async throws {
        try await MountedLibrary.with(Self.samples) { lib in
            #expect(try await lib.listedVideoNos("all") == lib.apiVideoNos())
            #expect(try await lib.listedVideoNos("by-id") == lib.apiVideoNos())
            for status in ["PARSE", "UNPARSE", "FAIL"] {
                #expect(try await lib.listedVideoNos("by-status/\(status)") == lib.apiVideoNos(VideoFilter(status: VideoStatus(wireValue: status))), "\(status)")
            }
            let tags = try await blocking { try FileManager.default.contentsOfDirectory(atPath: lib.path("by-tag")) }
            #expect(Set(tags).isSuperset(of: ["holiday", "beach", "twin", "unicode", "api"]))
            for tag in tags {
                #expect(try await lib.listedVideoNos("by-tag/\(tag)") == lib.apiVideoNos(VideoFilter(tag: tag)), "\(tag)")
            }
            let cameras = try await blocking { try FileManager.default.contentsOfDirectory(atPath: lib.path("by-camera")) }
            #expect(Set(cameras) == ["Canon EOS 5D", "Pixel 8"])
            for camera in cameras {
                #expect(try await lib.listedVideoNos("by-camera/\(camera)") == lib.apiVideoNos(VideoFilter(cameraModel: camera)))
            }
            // A tag nobody listed yet is still asked of the server.
            let missing = try await blocking { () -> Int32 in
                var st = stat()
                return stat(lib.path("by-tag/no-such-tag"), &st) == 0 ? 0 : errno
            }
            #expect(missing == ENOENT)
        }
    }

    @Test("by-date places videos on their capture day in the local time zone")
    func byDate() async throws {
        try await MountedLibrary.with(Self.samples) { lib in
            let c = Calendar.current.dateComponents([.year, .month, .day], from: Self.day)
            let dir = String(format: "by-date/%04d/%02d/%02d", c.year!, c.month!, c.day!)
            let listed = try await lib.listedVideoNos(dir)
            let beach = try await lib.client.allVideos(filter: VideoFilter(tag: "beach")).map(\.videoNo)
            #expect(listed == Set(beach))
        }
    }

    @Test("every by-date day holds what the API's datetime_taken filter and the day's end select, else videos uploaded that day; no query per day")
    func everyDayAgreesWithAPI() async throws {
        try await MountedLibrary.with(Self.samples) { lib in
            _ = try await lib.listedVideoNos("all")
            let requestsBefore = lib.server.server.stats().requests["list_videos"] ?? 0
            var days: [(path: String, listed: Set<String>)] = []
            for year in try await lib.directoryNames("by-date") {
                for month in try await lib.directoryNames("by-date/\(year)") {
                    for day in try await lib.directoryNames("by-date/\(year)/\(month)") {
                        let path = "by-date/\(year)/\(month)/\(day)"
                        days.append((path, try await lib.listedVideoNos(path)))
                    }
                }
            }
            // The day folders were answered from the full listing the mount already had.
            #expect(lib.server.server.stats().requests["list_videos"] ?? 0 == requestsBefore)
            let all = try await lib.client.allVideos(filter: VideoFilter())
            #expect(days.reduce(0) { $0 + $1.listed.count } == all.count, "every video is on exactly one day")
            for (path, listed) in days {
                let parts = path.split(separator: "/").dropFirst().map { Int($0)! }
                let start = Calendar.current.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))!
                let end = Calendar.current.date(byAdding: .day, value: 1, to: start)!
                let (startMS, endMS) = (Int64(start.timeIntervalSince1970 * 1000), Int64(end.timeIntervalSince1970 * 1000))
                let captured = try await lib.client.allVideos(filter: VideoFilter(takenAtOrAfter: startMS))
                    .filter { ($0.datetimeTaken ?? .max) < endMS }.map(\.videoNo)
                let uploaded = all.filter { $0.datetimeTaken == nil && ($0.createTime.map { $0 >= startMS && $0 < endMS } ?? false) }.map(\.videoNo)
                #expect(listed == Set(captured + uploaded), "\(path)")
            }
        }
    }

    @Test("names, collisions, unicode; attributes and xattrs from the listing")
    func namesAndAttributes() async throws {
        try await MountedLibrary.with(Self.samples) { lib in
            let names = Set(try await blocking { try FileManager.default.contentsOfDirectory(atPath: lib.path("all")) })
            #expect(names.contains("beach day.mp4"))
            #expect(names.contains("海边 🌊 día.mp4"))
            let twins = names.filter { $0.hasPrefix("same (") && $0.hasSuffix(").mp4") }
            #expect(twins.count == 2)
            #expect(!names.contains("same.mp4"))
            // The same name in every view.
            let tagNames = Set(try await blocking { try FileManager.default.contentsOfDirectory(atPath: lib.path("by-tag/twin")) })
            #expect(tagNames == twins)

            let beach = try #require(try await lib.client.allVideos(filter: VideoFilter(tag: "beach")).first)
            let st = try await blocking { () -> stat in
                var st = stat()
                guard stat(lib.path("all/beach day.mp4"), &st) == 0 else { throw POSIXError(.ENOENT) }
                return st
            }
            #expect(Int64(st.st_size) == beach.size)
            #expect(Int64(st.st_size) == Int64(try FileManager.default.attributesOfItem(atPath: lib.sources[beach.videoNo]!)[.size] as! Int))
            #expect(Int64(st.st_mtim.tv_sec) == beach.datetimeTaken! / 1000)
            #expect(st.st_mode & 0o777 == 0o444)

            let dump = try await run(["getfattr", "-d", "-m", "user.mavi.", lib.path("all/beach day.mp4")])
            #expect(dump.stdout.contains("user.mavi.video_no=\"\(beach.videoNo)\""))
            #expect(dump.stdout.contains("user.mavi.camera_model=\"Canon EOS 5D\""))
            #expect(dump.stdout.contains("user.mavi.status=\"PARSE\""))
            #expect(dump.stdout.contains("user.mavi.latitude=\"39.9042\""))
            #expect(dump.stdout.contains("beach"))
        }
    }

    @Test("odd names: slashes, control characters, dot names and 300-byte names become safe, distinct file names")
    func oddNames() async throws {
        let long = String(repeating: "é", count: 150)  // 300 bytes of UTF-8
        try await MountedLibrary.with([Sample(name: long), Sample(name: "plain")], listTTL: .seconds(1)) { lib in
            // The upload form cannot carry these; upload_url names a video after the URL's last
            // path component, percent-decoded. Nothing listens on port 9, so they end up FAIL.
            for component in ["a%2Fb.mp4", "line%0Abreak.mp4", "tab%09name.mp4", "%2E%2E.mp4"] {
                _ = try await lib.client.upload(url: URL(string: "http://127.0.0.1:9/clips/\(component)")!)
            }
            let all = try await ServerHarness.poll("the URL uploads to fail", within: .seconds(60)) { () -> Set<String>? in
                let videos = try await lib.client.allVideos()
                return videos.count == 6 && videos.allSatisfy({ $0.status != .unparsed }) ? Set(videos.map(\.videoNo)) : nil
            }
            let names = try await ServerHarness.poll("the mount to list all six", within: .seconds(30)) { () -> [String]? in
                let names = try await blocking { try FileManager.default.contentsOfDirectory(atPath: lib.path("all")) }
                return names.count == 6 ? names : nil
            }
            #expect(Set(names).isSuperset(of: ["a_b.mp4", "line_break.mp4", "tab_name.mp4"]), "\(names)")
            for name in names {
                #expect(name.utf8.count <= 255 && !name.unicodeScalars.contains { $0.value < 0x20 } && name != "." && name != "..", "\(name)")
            }
            let longName = try #require(names.first { $0.hasPrefix("éé") })
            #expect(longName.hasSuffix(".mp4") && longName.utf8.count <= 255 && longName.utf8.count >= 250, "\(longName)")
            // The video named ".." is named by its id instead.
            let dotVideo = try #require(try await lib.client.allVideos().first { ["..", "...mp4"].contains($0.videoName) })
            #expect(names.contains("\(dotVideo.videoNo).mp4"))
            // Every name leads to its own video, in all/ and by status.
            #expect(try await lib.listedVideoNos("all") == all)
            #expect(try await lib.listedVideoNos("by-status/FAIL") == lib.apiVideoNos(VideoFilter(status: .failed(spelling: "FAIL"))))
            let cause = try await blocking { try xattr(lib.path("all/a_b.mp4"), "user.mavi.cause") }
            #expect(!cause.isEmpty)
        }
    }

    @Test("every video's cover frame is a JPEG in .covers, fetched once; covers cannot be removed")
    func covers() async throws {
        try await MountedLibrary.with(Array(Self.samples.prefix(2))) { lib in
            let videos = try await lib.client.allVideos()
            #expect(videos.count == 2 && videos.allSatisfy { $0.coverURL != nil })
            let root = try await blocking { try FileManager.default.contentsOfDirectory(atPath: lib.mountpoint) }
            #expect(root.contains(".covers"))
            let names = try await blocking { try FileManager.default.contentsOfDirectory(atPath: lib.path(".covers")) }
            #expect(Set(names) == Set(videos.map { "\($0.videoNo).jpg" }))
            for video in videos {
                let path = lib.path(".covers/\(video.videoNo).jpg")
                let served = try await run(["curl", "-sS", "--fail", try #require(video.coverURL)])
                let read = try await run(["cat", path])
                #expect(read.succeeded && !read.stdoutBytes.isEmpty && read.stdoutBytes == served.stdoutBytes)
                // A JPEG: starts with the SOI marker; stat agrees with what was read.
                #expect(read.stdoutBytes.prefix(2) == [0xFF, 0xD8])
                let size = try await blocking { () -> Int in
                    var st = stat()
                    guard stat(path, &st) == 0 else { throw POSIXError(.ENOENT) }
                    return Int(st.st_size)
                }
                #expect(size == read.stdoutBytes.count)
                let probe = try await run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", path])
                #expect(probe.stdout.contains("mjpeg"), "\(probe.stderr)")
            }
            // Each cover was fetched once (curl above made one request of its own per cover);
            // reading again is served from the copy on disk.
            let fetched = lib.server.server.stats().requests(.cover)
            for video in videos { _ = try await run(["cat", lib.path(".covers/\(video.videoNo).jpg")]) }
            #expect(fetched == 2 * videos.count && lib.server.server.stats().requests(.cover) == fetched)
            let rm = try await run(["rm", "-f", lib.path(".covers/\(videos[0].videoNo).jpg")])
            #expect(!rm.succeeded && rm.stderr.contains("Operation not permitted"))
            #expect(try await lib.apiVideoNos().count == 2)
        }
    }

    @Test("files read through the mount equal the uploads; ffprobe reads the duration")
    func reads() async throws {
        try await MountedLibrary.with(Array(Self.samples.prefix(3))) { lib in
            for (no, source) in lib.sources {
                let cmp = try await run(["cmp", lib.path("by-id/\(no).mp4"), source])
                #expect(cmp.succeeded, "\(no): \(cmp.stdout) \(cmp.stderr)")
            }
            let probe = try await run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", lib.path("all/beach day.mp4")])
            #expect(probe.succeeded, "\(probe.stderr)")
            #expect(abs((Double(probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) - 1.0) < 0.2)
        }
    }

    @Test("rm is refused without --allow-delete, and nothing is deleted")
    func rmRefused() async throws {
        try await MountedLibrary.with(Array(Self.samples.prefix(2))) { lib in
            let before = try await lib.apiVideoNos()
            let rm = try await run(["rm", "-f", lib.path("all/beach day.mp4")])
            #expect(!rm.succeeded)
            #expect(rm.stderr.contains("Operation not permitted"))
            #expect(try await lib.apiVideoNos() == before)
        }
    }

    @Test("rm deletes the video on the server and from every view at once")
    func rmDeletes() async throws {
        try await MountedLibrary.with(Array(Self.samples.prefix(2)), allowDelete: true) { lib in
            let beach = try #require(try await lib.client.allVideos(filter: VideoFilter(tag: "beach")).first)
            // Seen in several views first, so the kernel has them cached.
            _ = try await lib.listedVideoNos("by-tag/holiday")
            _ = try await lib.listedVideoNos("by-id")
            let rm = try await run(["rm", lib.path("by-tag/beach/beach day.mp4")])
            #expect(rm.succeeded, "\(rm.stderr)")
            // Recorded when rm returns; on the server a moment later, with the next batch.
            try await waitUntil("the delete to reach the server", timeout: 20) { !(try await lib.apiVideoNos()).contains(beach.videoNo) }
            for dir in ["all", "by-tag/holiday", "by-id"] {
                #expect(!(try await lib.listedVideoNos(dir)).contains(beach.videoNo), "\(dir)")
            }
            // It was the camera's only video, so the camera's folder is gone too.
            let cameras = try await blocking { try FileManager.default.contentsOfDirectory(atPath: lib.path("by-camera")) }
            #expect(!cameras.contains("Canon EOS 5D"))
            let gone = try await blocking { () -> Int32 in
                var st = stat()
                return stat(lib.path("by-id/\(beach.videoNo).mp4"), &st) == 0 ? 0 : errno
            }
            #expect(gone == ENOENT)
        }
    }

    @Test("videos added or deleted behind the mount's back show after the TTL")
    func changesBehindTheBack() async throws {
        try await MountedLibrary.with(Array(Self.samples.prefix(1)), listTTL: .seconds(1)) { lib in
            #expect(try await lib.listedVideoNos("all").count == 1)
            let work = try TemporaryDirectory()
            defer { work.remove() }
            try await VideoFixtures.makeMP4(at: work.appending("late.mp4"))
            let added = try await lib.client.upload(file: work.appending("late.mp4"), fields: UploadFields(fileName: "late.mp4"))
            try await waitUntil("the new video appears", timeout: 15) { try await lib.listedVideoNos("all").contains(added.videoNo) }
            try await lib.client.deleteVideos([added.videoNo])
            try await waitUntil("the deleted video disappears", timeout: 15) { !(try await lib.listedVideoNos("all").contains(added.videoNo)) }
            let stale = try await blocking { () -> Int32 in
                var st = stat()
                return stat(lib.path("all/late.mp4"), &st) == 0 ? 0 : errno
            }
            #expect(stale == ENOENT)
        }
    }

    @Test("writes, mkdir, rename and rmdir are refused")
    func mutationsRefused() async throws {
        try await MountedLibrary.with(Array(Self.samples.prefix(1))) { lib in
            let results = try await blocking { () -> [Int32] in
                var r: [Int32] = []
                r.append(mkdir(lib.path("all/new"), 0o755) == 0 ? 0 : errno)
                r.append(rename(lib.path("all/beach day.mp4"), lib.path("all/x.mp4")) == 0 ? 0 : errno)
                r.append(rmdir(lib.path("by-tag")) == 0 ? 0 : errno)
                let fd = open(lib.path("all/beach day.mp4"), O_WRONLY)
                r.append(fd >= 0 ? 0 : errno)
                if fd >= 0 { close(fd) }
                return r
            }
            #expect(results.allSatisfy { $0 == EPERM || $0 == EACCES }, "\(results)")
        }
    }
}
