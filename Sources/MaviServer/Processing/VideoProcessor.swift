import Foundation
import Logging
import MaviAPI
import ServiceLifecycle
import Synchronization

/// The background step after an upload: fetch (for `upload_url`), probe, cover frame, `api` tag,
/// then `PARSE` — or `FAIL` with a cause — and the callback. Runs as a service beside the HTTP
/// server, a few videos at a time; videos left `UNPARSE` by a previous run are resumed at start.
final class VideoProcessor: Service, Sendable {
    private let database: LibraryDatabase
    private let layout: LibraryLayout
    private let probe: MediaProbe
    private let delay: Duration
    private let concurrency: Int
    private let logger: Logger
    private let queue: AsyncStream<String>
    private let queueInput: AsyncStream<String>.Continuation
    private let inFlight = Mutex<Set<String>>([])

    init(database: LibraryDatabase, layout: LibraryLayout, options: ServerOptions, logger: Logger) {
        self.database = database
        self.layout = layout
        self.probe = MediaProbe(ffprobe: options.ffprobePath, ffmpeg: options.ffmpegPath)
        self.delay = options.processingDelay
        self.concurrency = max(1, options.processingConcurrency)
        self.logger = logger
        (queue, queueInput) = AsyncStream.makeStream(of: String.self)
    }

    func enqueue(_ videoNo: String) {
        queueInput.yield(videoNo)
    }

    func run() async throws {
        for videoNo in try await database.unparsedVideoNumbers() {
            enqueue(videoNo)
        }
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for await videoNo in queue.cancelOnGracefulShutdown() {
                if running >= concurrency {
                    await group.next()
                    running -= 1
                }
                group.addTask { await self.processOnce(videoNo) }
                running += 1
            }
            // Shutting down: unfinished videos stay UNPARSE and are resumed on the next start.
            group.cancelAll()
        }
    }

    private func processOnce(_ videoNo: String) async {
        guard inFlight.withLock({ $0.insert(videoNo).inserted }) else { return }
        defer { _ = inFlight.withLock { $0.remove(videoNo) } }
        do {
            try await process(videoNo)
        } catch is CancellationError {
            return
        } catch {
            logger.error("processing \(videoNo) failed: \(error)")
        }
    }

    private func process(_ videoNo: String) async throws {
        guard let stored = try await database.video(videoNo, namespace: nil),
              stored.status == VideoStatus.unparsed.wireValue else { return }
        var record = stored
        let namespace = try await database.namespace(named: record.namespace)
        let original = layout.videoFile(directory: namespace.directory, videoNo: videoNo, fileExtension: record.fileExtension)
        let cover = layout.coverFile(directory: namespace.directory, videoNo: videoNo)
        if delay > .zero { try await Task.sleep(for: delay) }

        if let source = record.sourceURL, !record.hasOriginal {
            guard let size = try await fetch(source, to: original) else {
                try await finish(record, status: .fail, cause: ServerMessages.causeFetchFailed)
                return
            }
            record = try await database.update(videoNo) { $0.size = size; $0.hasOriginal = true } ?? record
        }

        let info: MediaInfo
        do {
            info = try await probe.probe(original)
        } catch let notAVideo as NotAVideo {
            try await finish(record, status: .fail, cause: notAVideo.cause)
            return
        }
        try Task.checkCancellation()
        try layout.ensureDirectory(forFile: cover)
        let hasCover = await probe.makeCover(of: original, info: info, to: cover)
        // Stored before the video shows as parsed, so a client that sees PARSE finds them.
        for track in TranscriptTrack.allCases {
            try Task.checkCancellation()
            if let segments = await probe.subtitles(of: original, track: track) {
                try await database.storeSegments(segments, track: track, videoNo: videoNo)
            }
        }
        let retain = record.retainOriginal
        let updated = try await database.update(videoNo, tagsToAppend: ["api"]) { r in
            r.status = VideoStatus.parsed.wireValue
            r.cause = nil
            r.duration = Int64(info.duration.rounded())
            r.width = info.width
            r.height = info.height
            r.fps = info.fps
            r.hasCover = hasCover
            if !retain { r.hasOriginal = false }
        }
        guard let updated else {
            // Deleted while it was being processed.
            try? FileManager.default.removeItem(atPath: cover)
            try? FileManager.default.removeItem(atPath: original)
            return
        }
        if !retain { try? FileManager.default.removeItem(atPath: original) }
        logger.info("\(videoNo) parsed: \(info.width)x\(info.height), \(info.duration) s")
        if let callback = updated.callbackURL {
            await OutboundHTTP.notify(callback, videoNo: videoNo, status: .parsed, logger: logger)
        }
    }

    private func finish(_ record: VideoRecord, status: VideoStatus, cause: String) async throws {
        let updated = try await database.update(record.videoNo) { r in
            r.status = status.wireValue
            r.cause = cause
        }
        logger.info("\(record.videoNo) failed processing: \(cause)")
        if let callback = updated?.callbackURL {
            await OutboundHTTP.notify(callback, videoNo: record.videoNo, status: status, logger: logger)
        }
    }

    /// The fetched size, or nil when the source cannot be fetched. Throws only when cancelled:
    /// a shutdown leaves the video `UNPARSE`, to be fetched again on the next start.
    private func fetch(_ url: String, to path: String) async throws -> Int64? {
        let temporary = layout.newTemporaryFile()
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        do {
            let size = try await OutboundHTTP.fetch(url, to: temporary, maxBytes: APILimits.maxUploadBytes)
            try layout.ensureDirectory(forFile: path)
            try FileManager.default.moveItem(atPath: temporary, toPath: path)
            return size
        } catch {
            try Task.checkCancellation()
            logger.warning("fetching the source of an upload_url video failed: \(error)")
            return nil
        }
    }
}
