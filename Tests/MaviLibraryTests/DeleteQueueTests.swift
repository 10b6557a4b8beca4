import Foundation
import Logging
import MaviAPI
import MaviClient
@testable import MaviLibrary
import Synchronization
import Testing
import TestSupport

/// A delete endpoint that records every call, and fails as told.
final class RecordedDeletes: VideoListingSource, Sendable {
    let calls = Mutex<[[String]]>([])
    /// Thrown by the next calls, one each.
    let failures = Mutex<[MaviClientError]>([])
    /// A call naming any of these is refused as a parameter error.
    let rejected: Set<String>
    /// What listings show.
    let listed: [String]

    init(rejected: Set<String> = [], listed: [String] = []) {
        self.rejected = rejected
        self.listed = listed
    }

    func videos(matching filter: VideoFilter) async throws -> [Video] {
        listed.map { Video(videoNo: $0, videoName: $0, status: .parsed) }
    }

    func delete(videoNos: [String]) async throws {
        calls.withLock { $0.append(videoNos) }
        if let failure = failures.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { throw failure }
        if videoNos.contains(where: rejected.contains) {
            throw MaviClientError.invalidParameter(APIFailure(endpoint: .deleteVideos, code: "0001", message: "bad video_no"))
        }
    }

    var deleted: [String] {
        calls.withLock { $0 }.flatMap { $0 }
    }
}

@Suite("Batched deletes behind a journal", .timeLimit(.minutes(2)))
struct DeleteQueueTests {
    static func queue(
        _ source: RecordedDeletes, in work: TemporaryDirectory, catalog: VideoCatalog? = nil, clock: ManualClock,
        settings: DeleteQueue.Settings = DeleteQueue.Settings()
    ) throws -> DeleteQueue {
        try DeleteQueue(
            journalPath: work.appending("deletes/default.journal"), source: source,
            catalog: catalog ?? VideoCatalog(source: source, ttl: .seconds(60)), settings: settings, clock: TimeSource(clock),
            logger: Logger(label: "mavifs.test.deletes"))
    }

    @Test("a lone delete waits 100 ms for others; many go in calls of 100, one every 210 ms, in the order asked")
    func batchesAndPace() async throws {
        let work = try TemporaryDirectory(prefix: "mavifs-deletes")
        defer { work.remove() }
        let clock = ManualClock()
        let source = RecordedDeletes()
        let queue = try Self.queue(source, in: work, clock: clock)
        queue.start()
        try queue.request("VI-first")
        try await clock.waitForSleepers()
        #expect(clock.sleepers == [.milliseconds(100)], "the first call waits for the window")
        #expect(source.calls.withLock { $0.isEmpty })
        clock.advance(by: .milliseconds(100))
        try await waitUntil("the first call", timeout: 20) { source.calls.withLock { $0.count } == 1 }

        let ids = (0..<250).map { String(format: "VI%04d", $0) }
        for id in ids { try queue.request(id) }
        for call in 2...4 {
            try await clock.waitForSleepers()
            #expect(clock.sleepers == [.milliseconds(210)], "each call keeps the endpoint's pace")
            clock.advance(by: .milliseconds(210))
            try await waitUntil("call \(call)", timeout: 20) { source.calls.withLock { $0.count } == call }
        }
        #expect(source.calls.withLock { $0.map(\.count) } == [1, 100, 100, 50])
        #expect(source.deleted == ["VI-first"] + ids, "in the order they were asked for")
        try await waitUntil("the confirmations", timeout: 20) { queue.stats().confirmed == 251 }
        #expect(queue.stats().pending == 0 && queue.stats().calls == 4)
        #expect(await queue.drain(within: .seconds(5)) == 0)
        #expect(CacheFiles.fileSize(work.appending("deletes/default.journal")) == 0, "nothing pending, nothing kept")
    }

    @Test("a transient failure is tried again after a growing delay until the server takes it")
    func transientFailuresRetry() async throws {
        let work = try TemporaryDirectory(prefix: "mavifs-deletes")
        defer { work.remove() }
        let clock = ManualClock()
        let source = RecordedDeletes()
        let unavailable = MaviClientError.httpStatus(HTTPFailure(endpoint: .deleteVideos, status: 503))
        let limited = MaviClientError.rateLimited(APIFailure(endpoint: .deleteVideos, code: "0429", message: "limit"))
        source.failures.withLock { $0 = [unavailable, limited, unavailable] }
        let queue = try Self.queue(source, in: work, clock: clock)
        queue.start()
        try queue.request("VI1")
        try queue.request("VI2")
        let (_, sleeps) = try await clock.run { try await waitUntil("the delete", timeout: 20) { queue.stats().confirmed == 2 } }
        #expect(source.calls.withLock { $0 } == Array(repeating: ["VI1", "VI2"], count: 4))
        for delay in [Duration.seconds(1), .seconds(2), .seconds(4)] { #expect(sleeps.contains(delay), "\(sleeps)") }
        #expect(queue.stats().retrying == false && queue.stats().refused == 0)
        _ = await queue.drain(within: .seconds(5))
    }

    @Test("one id the server rejects is narrowed down by halving; the others are deleted, it alone is refused")
    func parameterErrorIsNarrowedDown() async throws {
        let work = try TemporaryDirectory(prefix: "mavifs-deletes")
        defer { work.remove() }
        let clock = ManualClock()
        let source = RecordedDeletes(rejected: ["BAD"])
        let catalog = VideoCatalog(source: source, ttl: .seconds(60))
        let queue = try Self.queue(source, in: work, catalog: catalog, clock: clock)
        queue.start()
        for id in ["VI1", "BAD", "VI3", "VI4", "VI5"] { try queue.request(id) }
        _ = try await clock.run { try await waitUntil("every outcome", timeout: 20) { queue.stats().pending == 0 } }
        let stats = queue.stats()
        #expect(stats.confirmed == 4 && stats.refused == 1, "\(stats)")
        #expect(stats.refusals.map(\.videoNos) == [["BAD"]])
        let confirmed = Set(source.calls.withLock { $0 }.filter { !$0.contains("BAD") }.flatMap { $0 })
        #expect(confirmed == ["VI1", "VI3", "VI4", "VI5"])
        #expect(source.calls.withLock { $0.count } <= 8, "\(source.calls.withLock { $0 })")
        _ = await queue.drain(within: .seconds(5))
    }

    @Test("a permanent refusal ends the whole batch and shows the videos again")
    func permanentRefusal() async throws {
        let work = try TemporaryDirectory(prefix: "mavifs-deletes")
        defer { work.remove() }
        let clock = ManualClock()
        let source = RecordedDeletes(listed: ["VI1", "VI2", "VI3"])
        source.failures.withLock { $0 = [.unauthorized(APIFailure(endpoint: .deleteVideos, code: "0401", message: "no"))] }
        let catalog = VideoCatalog(source: source, ttl: .seconds(60))
        #expect(try await catalog.list().videos.count == 3)
        let queue = try Self.queue(source, in: work, catalog: catalog, clock: clock)
        queue.start()
        try queue.request("VI1")
        try queue.request("VI2")
        #expect(try await catalog.list().shownNumbers == ["VI3"], "hidden while pending")
        _ = try await clock.run { try await waitUntil("the refusal", timeout: 20) { queue.stats().refused == 2 } }
        #expect(source.calls.withLock { $0.count } == 1, "not tried again")
        #expect(queue.stats().lastError?.contains("0401") == true)
        #expect(!queue.isPending("VI1") && !queue.isPending("VI2"))
        #expect(try await catalog.list().shownNumbers.sorted() == ["VI1", "VI2", "VI3"], "shown again")
        _ = await queue.drain(within: .seconds(5))
        // The journal says they are done with: a new queue sends nothing.
        let again = try Self.queue(source, in: work, clock: clock)
        #expect(again.stats().replayed == 0)
        _ = await again.drain(within: .seconds(1))
    }

    @Test("deletes left pending are hidden and sent again by the next queue on the same journal")
    func replayAfterRestart() async throws {
        let work = try TemporaryDirectory(prefix: "mavifs-deletes")
        defer { work.remove() }
        let clock = ManualClock()
        let source = RecordedDeletes()
        // Every call of the first queue times out; it is closed with both deletes pending (as by
        // a crash: nothing more is written).
        source.failures.withLock { $0 = Array(repeating: .timeout(endpoint: .deleteVideos, .response), count: 1000) }
        let first = try Self.queue(source, in: work, clock: clock)
        first.start()
        try first.request("VI1")
        try first.request("VI2")
        _ = try await clock.run { try await waitUntil("two failed calls", timeout: 20) { source.calls.withLock { $0.count } >= 2 } }
        #expect(first.stats().retrying && first.stats().pending == 2)
        await first.close()
        let failedCalls = source.calls.withLock { $0.count }
        source.failures.withLock { $0 = [] }

        let catalog = VideoCatalog(source: source, ttl: .seconds(60))
        let second = try Self.queue(source, in: work, catalog: catalog, clock: clock)
        #expect(second.stats().replayed == 2 && second.isPending("VI1") && second.isPending("VI2"))
        second.start()
        _ = try await clock.run { try await waitUntil("the replay", timeout: 20) { second.stats().confirmed == 2 } }
        #expect(source.calls.withLock { $0 } == Array(repeating: ["VI1", "VI2"], count: failedCalls + 1))
        _ = await second.drain(within: .seconds(5))
    }

    @Test("a journal torn by a crash keeps its intact records and drops the rest")
    func tornJournal() throws {
        let work = try TemporaryDirectory(prefix: "mavifs-deletes")
        defer { work.remove() }
        let path = work.appending("j/default.journal")
        var bytes: [UInt8] = []
        bytes += DeleteJournal.encode(.init(kind: .requested, videoNos: ["VI1", "VI2"]))
        bytes += DeleteJournal.encode(.init(kind: .requested, videoNos: ["VI3"]))
        bytes += DeleteJournal.encode(.init(kind: .confirmed, videoNos: ["VI1"]))
        let torn = DeleteJournal.encode(.init(kind: .requested, videoNos: ["VI4"]))
        bytes += torn.prefix(torn.count - 3)
        try FileManager.default.createDirectory(atPath: work.appending("j"), withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        let (journal, loaded) = try DeleteJournal.open(path: path)
        #expect(loaded.pending == ["VI2", "VI3"])
        #expect(loaded.discardedBytes == torn.count - 3)
        try journal.append(.init(kind: .requested, videoNos: ["VI5"]))
        journal.close()

        // Rewritten with what is pending, and the new record readable after it.
        let reread = DeleteJournal.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(DeleteJournal.pending(after: reread.records) == ["VI2", "VI3", "VI5"])

        // A damaged record in the middle ends what can be trusted there.
        var damaged = DeleteJournal.encode(.init(kind: .requested, videoNos: ["VI6"]))
        damaged[damaged.count - 2] ^= 0xFF
        let decoded = DeleteJournal.decode(DeleteJournal.encode(.init(kind: .requested, videoNos: ["VI7"])) + damaged
            + DeleteJournal.encode(.init(kind: .requested, videoNos: ["VI8"])))
        #expect(decoded.records.map(\.videoNos) == [["VI7"]])
    }
}
