import FUSE
import Foundation
import Logging
import MaviAPI
import MaviClient
import MaviFS
import MaviLibrary
import MaviServer
import TestSupport

/// A local server holding the subtitled videos (and one with a name of 253 bytes), mounted in
/// this process with `search/` on a clock the test moves, and subtitle sidecars.
struct SearchMount: Sendable {
    let mountpoint: String
    let server: RunningLibraryServer
    let client: MaviClient
    /// Name (as uploaded, without extension) → video_no.
    let videos: [String: String]
    /// video_no → the file uploaded.
    let sources: [String: String]
    let clock: ManualClock
    let options: MaviFSOptions
    /// Where the mount keeps subtitle sidecars.
    let subtitleDirectory: String
    /// The delete queue of a mount made with `allowDelete`.
    let deletes: DeleteQueue?

    /// A video named with 253 bytes: "tide " and 124 two-byte letters.
    static let longName = "tide " + String(repeating: "é", count: 124)

    func path(_ relative: String) -> String { mountpoint + "/" + relative }

    var searchRequests: Int { server.server.stats().requests(.search) }
    var phraseRequests: Int { server.server.stats().requests(.searchAudioTranscripts) }

    /// The names of a directory in the order readdir gives them (`ls -U`).
    func readdirOrder(_ relative: String) async throws -> [String] {
        let r = try await run(["ls", "-1", "-U", path(relative)], timeout: 30)
        guard r.succeeded else { throw ListingFailed(path: relative, stderr: r.stderr) }
        return r.stdout.split(separator: "\n").map(String.init)
    }

    /// ``readdirOrder(_:)`` without the subtitle sidecars.
    func readdirWithoutSidecars(_ relative: String) async throws -> [String] {
        try await readdirOrder(relative).filter { !$0.hasSuffix(".srt") }
    }

    struct ListingFailed: Error {
        let path: String
        let stderr: String
    }

    static func with(
        metadataTimeout: Duration = .seconds(10), allowDelete: Bool = false, more: [(name: String, file: String)] = [],
        sidecarListingLimit: Int = MaviFSOptions.defaultSidecarListingLimit,
        _ body: @Sendable (SearchMount) async throws -> Void
    ) async throws {
        let files = [
            ("dog on the beach", try await SubtitledVideos.beach()),
            ("harbour walk", try await SubtitledVideos.harbour()),
            ("silent", try await SubtitledVideos.silent()),
            (longName, try await SubtitledVideos.silent()),
        ] + more.map { ($0.name, $0.file) }
        try await ServerHarness.withServer { running in
            let work = try TemporaryDirectory(prefix: "mavifs-search")
            defer { work.remove() }
            let client = MaviClient(configuration: ClientConfiguration(
                endpoint: URL(string: running.baseURL)!, apiKey: try APIKey(running.apiKey),
                timeouts: Timeouts(connect: .seconds(2), request: .seconds(30), idleRead: .seconds(30), connectionIdle: .seconds(60)),
                retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10), maxDelay: .milliseconds(20), deadline: nil),
                // Uploads unpaced (the test uploads four at once), search and transcripts as documented.
                pacing: Pacing(limits: [.search: .search, .getAudioTranscription: .transcription])))
            var videos: [String: String] = [:]
            var sources: [String: String] = [:]
            do {
                for (name, file) in files {
                    let reply = try await client.upload(file: file, fields: UploadFields(fileName: name + ".mp4"))
                    videos[name] = reply.videoNo
                    sources[reply.videoNo] = file
                }
                let ids = Array(sources.keys)
                _ = try await ServerHarness.poll("uploads to finish processing", within: .seconds(60)) { () -> Bool? in
                    let listed = try await client.allVideos(filter: VideoFilter(videoNos: ids))
                    return listed.count == ids.count && listed.allSatisfy { $0.status == .parsed } ? true : nil
                }
            } catch {
                try? await client.shutdown()
                throw error
            }
            var logger = Logger(label: "mavifs.test.search")
            logger.logLevel = ProcessInfo.processInfo.environment["MAVIFS_TEST_LOG"] == nil ? .warning : .debug
            let reader = try VideoReader(client: client, namespace: APILimits.defaultNamespace,
                                         configuration: CacheConfiguration(directory: work.appending("cache"), blockSize: 256 * 1024), logger: logger)
            let options = MaviFSOptions(
                allowDelete: allowDelete, listTTL: .seconds(60), metadataTimeout: metadataTimeout, sidecarListingLimit: sidecarListingLimit)
            let clock = ManualClock()
            let catalog = VideoCatalog(source: client, ttl: options.listTTL, logger: logger)
            let search = SearchCatalog(source: client, ttl: options.listTTL, clock: TimeSource(clock), logger: logger)
            let subtitleDirectory = SubtitleStore.directory(cache: work.appending("cache"), namespace: APILimits.defaultNamespace)
            let subtitles = SubtitleStore(directory: subtitleDirectory, source: client, logger: logger)
            let deletes = try allowDelete ? DeleteQueue(
                journalPath: DeleteQueue.journalPath(
                    cacheDirectory: work.appending("cache"), endpoint: running.baseURL, namespace: APILimits.defaultNamespace),
                source: client, catalog: catalog, logger: logger) : nil
            deletes?.start()
            let fs = MaviFileSystem(
                catalog: catalog, content: reader, deletes: deletes, search: search, subtitles: subtitles, options: options, logger: logger)
            do {
                try await withMount(fs, options: MountOptions(fsName: "mavifs-test", subtype: "mavifs")) { mnt, session in
                    fs.attach(session)
                    try await body(SearchMount(
                        mountpoint: mnt, server: running, client: client, videos: videos, sources: sources, clock: clock, options: options,
                        subtitleDirectory: subtitleDirectory, deletes: deletes))
                }
            } catch {
                await deletes?.close()
                await reader.shutdown()
                try? await client.shutdown()
                throw error
            }
            await deletes?.close()
            await reader.shutdown()
            try? await client.shutdown()
        }
    }
}
