import FUSE
import Foundation
import Logging
import MaviAPI
import MaviClient
import MaviFS
import MaviLibrary
import MaviServer
import TestSupport
import Thumbnails

/// A video to upload before mounting.
struct Sample: Sendable {
    var name: String
    var tags: [String] = []
    var camera: String?
    var taken: Date?
    var location: GeoPoint?
    var seconds: Double = 1
}

/// A running local server with uploaded samples, mounted with `MaviFileSystem` in this process.
struct MountedLibrary: Sendable {
    let mountpoint: String
    let server: RunningLibraryServer
    let client: MaviClient
    /// video_no → the file that was uploaded.
    let sources: [String: String]
    let session: FUSESession

    func path(_ relative: String) -> String { mountpoint + "/" + relative }

    /// The video_nos the API returns for `filter`, straight from the server.
    func apiVideoNos(_ filter: VideoFilter = VideoFilter()) async throws -> Set<String> {
        Set(try await client.allVideos(filter: filter).map(\.videoNo))
    }

    /// The video_nos of the files a directory of the mount lists, read from their xattrs.
    func listedVideoNos(_ directory: String) async throws -> Set<String> {
        let dir = path(directory)
        return try await blocking {
            let names = try FileManager.default.contentsOfDirectory(atPath: dir)
            return Set(try names.map { try xattr(dir + "/" + $0, "user.mavi.video_no") })
        }
    }

    /// The names a directory of the mount lists.
    func directoryNames(_ directory: String) async throws -> [String] {
        let dir = path(directory)
        return try await blocking { try FileManager.default.contentsOfDirectory(atPath: dir) }
    }

    static func with(
        _ samples: [Sample], allowDelete: Bool = false, listTTL: Duration = .seconds(60), thumbnails: ThumbnailCache? = nil,
        _ body: @Sendable (MountedLibrary) async throws -> Void
    ) async throws {
        try await ServerHarness.withServer { running in
            let work = try TemporaryDirectory(prefix: "mavifs-fs")
            defer { work.remove() }
            let client = MaviClient(configuration: ClientConfiguration(
                endpoint: URL(string: running.baseURL)!, apiKey: try APIKey(running.apiKey), pacing: .unlimited))
            let sources: [String: String]
            do {
                sources = try await upload(samples, with: client, into: work)
            } catch {
                try? await client.shutdown()
                throw error
            }
            var logger = Logger(label: "mavifs.test.fs")
            logger.logLevel = ProcessInfo.processInfo.environment["MAVIFS_TEST_LOG"] == nil ? .warning : .debug
            let reader = try VideoReader(client: client, namespace: APILimits.defaultNamespace,
                                         configuration: CacheConfiguration(directory: work.appending("cache"), blockSize: 256 * 1024), logger: logger)
            let catalog = VideoCatalog(source: client, ttl: listTTL, logger: logger)
            let covers = CoverStore(directory: work.appending("covers"), source: client, logger: logger)
            let deletes = try DeleteQueue(
                journalPath: DeleteQueue.journalPath(
                    cacheDirectory: work.appending("cache"), endpoint: running.baseURL, namespace: APILimits.defaultNamespace),
                source: client, catalog: catalog, logger: logger)
            deletes.start()
            let fs = MaviFileSystem(catalog: catalog, content: reader, covers: covers, deletes: allowDelete ? deletes : nil,
                                    options: MaviFSOptions(allowDelete: allowDelete, listTTL: listTTL), logger: logger)
            do {
                try await withMount(fs, options: MountOptions(fsName: "mavifs-test", subtype: "mavifs")) { mnt, session in
                    fs.attach(session)
                    if let thumbnails { fs.writeThumbnails(mountpoint: mnt, into: thumbnails) }
                    try await body(MountedLibrary(mountpoint: mnt, server: running, client: client, sources: sources, session: session))
                }
            } catch {
                _ = await deletes.drain(within: .seconds(5))
                await reader.shutdown()
                try? await client.shutdown()
                throw error
            }
            _ = await deletes.drain(within: .seconds(5))
            await reader.shutdown()
            try? await client.shutdown()
        }
    }

    /// Uploads every sample and waits until the server has processed them all.
    private static func upload(_ samples: [Sample], with client: MaviClient, into work: TemporaryDirectory) async throws -> [String: String] {
        var sources: [String: String] = [:]
        for (i, s) in samples.enumerated() {
            let file = work.appending("\(i)-\(s.name.hashValue).mp4")
            try await VideoFixtures.makeMP4(at: file, seconds: s.seconds)
            let fields = UploadFields(tags: s.tags, cameraModel: s.camera, takenAt: s.taken.map { UploadFields.formatTakenAt($0) },
                              location: s.location, fileName: s.name + ".mp4")
            let reply = try await client.upload(file: file, fields: fields)
            sources[reply.videoNo] = file
        }
        let ids = Array(sources.keys)
        _ = try await ServerHarness.poll("uploads to finish processing", within: .seconds(60)) { () -> Bool? in
            let videos = try await client.allVideos(filter: VideoFilter(videoNos: ids))
            return videos.count == ids.count && videos.allSatisfy { $0.status != .unparsed } ? true : nil
        }
        return sources
    }
}

/// One extended attribute as text (a blocking call: use inside `blocking`).
func xattr(_ path: String, _ name: String) throws -> String {
    let r = try runBlocking(["getfattr", "--only-values", "-n", name, path], timeout: 20)
    guard r.succeeded else { throw XattrMissing(path: path, name: name, stderr: r.stderr) }
    return r.stdout
}

struct XattrMissing: Error {
    let path: String
    let name: String
    let stderr: String
}
