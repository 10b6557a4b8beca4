import MaviAPI
import MaviClient
@testable import MaviLibrary
import Synchronization
import Testing
import TestSupport

/// The full listing brought up to date from the top: what changed is found in few calls, and
/// anything the top cannot show sends the refresh back to a whole listing.
@Suite("Incremental refresh of the full listing")
struct IncrementalRefreshTests {
    /// `count` videos, newest first, `VI<n>` created at `n` seconds; every seventh still processing.
    static func library(_ count: Int, from first: Int = 0) -> [Video] {
        (first..<(first + count)).reversed().map { n in
            Video(videoNo: "VI\(n)", videoName: "clip \(n)", size: 1000, status: n % 7 == 0 ? .unparsed : .parsed, createTime: Int64(n) * 1000)
        }
    }

    /// A refresh allowed `wholeListingCalls` calls before it gives up.
    static func refresh(
        _ server: PagedLibrary, previous: [Video], hidden: Set<String> = [], pending: Set<String> = [], wholeListingCalls: Int = 100
    ) async throws -> IncrementalRefresh.Outcome {
        try await IncrementalRefresh(source: server).refresh(
            previous: VideoTable(previous), hidden: hidden, pending: pending, wholeListingCalls: wholeListingCalls)
    }

    /// The outcome in a line (a failed expectation prints this, not thousands of videos).
    static func summary(_ outcome: IncrementalRefresh.Outcome, against expected: [Video]) -> String {
        switch outcome {
        case .updated(let videos, let calls): "updated in \(calls) calls, \(videos == expected ? "as expected" : "NOT as expected")"
        case .relistWhole(let reason, let calls): "whole after \(calls) calls: \(reason)"
        }
    }

    @Test("an unchanged library costs one page from the top, whatever its size, when nothing is processing")
    func unchanged() async throws {
        let videos = Self.library(5000).map { video in var v = video; v.status = .parsed; return v }
        let server = PagedLibrary(videos)
        let outcome = try await Self.refresh(server, previous: videos, wholeListingCalls: 6)
        #expect(Self.summary(outcome, against: videos) == "updated in 1 calls, as expected")
        #expect(server.pageCalls.withLock { $0 } == [.init(page: 1, ids: 0)])
    }

    @Test("deletes the server has not confirmed yet are counted where they still are, deep in the listing or on the top page")
    func pendingDeletes() async throws {
        let videos = Self.library(5000).map { video in var v = video; v.status = .parsed; return v }
        let server = PagedLibrary(videos)
        // Deleted through the mount: one deep down, one on the first page, one the server has deleted already.
        let hidden: Set<String> = ["VI10", "VI4990", "VI1234"]
        let shown = videos.filter { !hidden.contains($0.videoNo) && $0.videoNo != "VI1234" }
        server.replace(server.all.filter { $0.videoNo != "VI1234" })
        let outcome = try await Self.refresh(server, previous: shown, hidden: hidden, pending: ["VI10", "VI4990"], wholeListingCalls: 6)
        #expect(Self.summary(outcome, against: shown) == "updated in 1 calls, as expected")
        // Counted as still on the server when it is not: the counts disagree, the listing is fetched whole.
        let wrong = try await Self.refresh(server, previous: shown, hidden: hidden, pending: ["VI10", "VI4990", "VI1234"], wholeListingCalls: 6)
        #expect(Self.summary(wrong, against: shown).hasPrefix("whole after 1 calls"))
    }

    @Test("new videos are read from the top pages; videos processing are asked for by id, 100 a call")
    func additionsAndStatusChanges() async throws {
        let before = Self.library(5000)
        var now = Self.library(250, from: 5000) + before
        // Processed since: every processing video but one, which failed instead.
        for i in now.indices where now[i].status == .unparsed && Int(now[i].videoNo.dropFirst(2))! < 5000 {
            now[i].status = now[i].videoNo == "VI4998" ? .fail : .parsed
            now[i].tags = ["api"]
        }
        let server = PagedLibrary(now)
        let outcome = try await Self.refresh(server, previous: before)
        // 250 new: the anchor is on page 2, whose 150 known videos are current already.
        let processing = before.dropFirst(150).filter { $0.status == .unparsed }.count
        let checks = (processing + 99) / 100
        #expect(Self.summary(outcome, against: now) == "updated in \(2 + checks) calls, as expected")
        #expect(server.pageCalls.withLock { $0 }.prefix(2) == [.init(page: 1, ids: 0), .init(page: 2, ids: 0)])
        #expect(server.pageCalls.withLock { $0 }.dropFirst(2).allSatisfy { $0.ids > 0 && $0.ids <= 100 })
    }

    @Test("deleted elsewhere, added out of order, reordered or unordered: the listing is fetched whole")
    func relistWhole() async throws {
        let before = Self.library(3000)
        var deleted = before
        deleted.remove(at: 1700)
        var outOfOrder = before
        outOfOrder.insert(Video(videoNo: "VX", videoName: "late", status: .parsed, createTime: 1_500_000), at: 1500)
        var reordered = before
        reordered.swapAt(3, 4)
        var unordered = before
        unordered.swapAt(0, 150)
        var newestGone = Self.library(10, from: 3000) + before
        newestGone.remove(at: 10)
        for (name, now) in [("deleted", deleted), ("out of order", outOfOrder), ("reordered", reordered), ("unordered", unordered), ("newest gone", newestGone)] {
            guard case .relistWhole = try await Self.refresh(PagedLibrary(now), previous: before) else {
                Issue.record("\(name): not fetched whole")
                continue
            }
        }
    }

    @Test("videos this mount deleted (still on the server, or gone) count as they should")
    func hiddenVideos() async throws {
        let server = Self.library(1000)
        let hidden: Set = ["VI999", "VI500"]
        let previous = server.filter { !hidden.contains($0.videoNo) }
        // The newest hidden one is listed above the anchor; one deeper is still on the server too:
        // the counts cannot tell, so the listing is fetched whole.
        guard case .relistWhole = try await Self.refresh(PagedLibrary(server), previous: previous, hidden: hidden) else {
            Issue.record("a hidden video deeper than the pages read must send the refresh whole")
            return
        }
        // Once the server has deleted the deeper one, the top is enough.
        let confirmed = server.filter { $0.videoNo != "VI500" }
        let outcome = try await Self.refresh(PagedLibrary(confirmed), previous: previous, hidden: hidden)
        #expect(Self.summary(outcome, against: previous).hasPrefix("updated in"))
        if case .updated(let videos, _) = outcome { #expect(videos.map(\.videoNo) == previous.map(\.videoNo)) }
    }

    @Test("too many new videos cost what a whole listing costs, and no more")
    func manyNew() async throws {
        let before = Self.library(100)
        let server = PagedLibrary(Self.library(3000, from: 100) + before)
        guard case .relistWhole(_, let calls) = try await Self.refresh(server, previous: before, wholeListingCalls: 2) else {
            Issue.record("3,000 new videos over a 100-video listing: fetched whole is cheaper")
            return
        }
        #expect(calls <= 2)
    }

    @Test("an upload between two pages read from the top sends the refresh whole, never a video twice")
    func movedWhileRead() async throws {
        let before = Self.library(1000)
        let server = PagedLibrary(Self.library(250, from: 1000) + before)
        // Once page 1 is read, one more video arrives on top and pushes the rest down by one.
        server.afterFirstPage(Self.library(1, from: 1250) + Self.library(250, from: 1000) + before)
        guard case .relistWhole(let reason, _) = try await Self.refresh(server, previous: before) else {
            Issue.record("a listing that moved while it was read was taken as it came")
            return
        }
        #expect(reason.contains("moved"))
    }

    @Test("a video deleted through the mount while a refresh is under way stays out of the refreshed listing")
    func hiddenDuringRefresh() async throws {
        let server = GatedListing(ListingStoreTests.videos(10))
        let catalog = VideoCatalog(source: server, ttl: .zero)
        let listing = Task { try await catalog.list() }
        try await waitUntil("the fetch to start", timeout: 20) { server.calls.withLock { $0 } == 1 }
        catalog.hide(["VI3"])
        server.open()
        let videos = try await listing.value.videos
        #expect(videos.count == 9 && !videos.contains { $0.videoNo == "VI3" })
    }

    @Test("the catalog keeps the listing up to date from the top and counts its calls")
    func catalog() async throws {
        // One video in a hundred still processing.
        func library(_ count: Int, from first: Int = 0) -> [Video] {
            Self.library(count, from: first).map { video in
                var v = video
                v.status = Int(v.videoNo.dropFirst(2))! % 100 == 0 ? .unparsed : .parsed
                return v
            }
        }
        let server = PagedLibrary(library(2500))
        let catalog = VideoCatalog(source: server, ttl: .zero)
        _ = try await catalog.list()
        #expect(catalog.refreshStats.whole == 1 && catalog.refreshStats.incremental == 0)
        server.replace(library(3, from: 2500) + library(2500))
        let second = try await catalog.list()
        #expect(second.videos == server.all)
        #expect(catalog.refreshStats.incremental == 1)
        // Page 1 holds the 3 new videos and 197 known; the 24 processing below them take one call.
        #expect(catalog.refreshStats.lastCalls == 2)
        #expect(server.pageCalls.withLock { $0 }.last?.ids == (0...2302).filter { $0 % 100 == 0 }.count)
    }
}

/// A library that answers pages from the top, and queries by id, as `list_videos` does, newest
/// first; it counts each page asked for.
final class PagedLibrary: VideoListingSource, Sendable {
    struct Call: Equatable {
        var page: Int
        /// The ids of a `video_nos` query; 0 for a page from the top.
        var ids: Int
    }

    private let videos: Mutex<[Video]>
    let pageCalls = Mutex<[Call]>([])
    /// What the library becomes once its first page has been answered.
    private let next = Mutex<[Video]?>(nil)

    func afterFirstPage(_ videos: [Video]) {
        next.withLock { $0 = videos }
    }

    init(_ videos: [Video]) {
        self.videos = Mutex(videos)
    }

    var all: [Video] { videos.withLock { $0 } }

    func replace(_ new: [Video]) {
        videos.withLock { $0 = new }
    }

    func videos(matching filter: VideoFilter) async throws -> [Video] {
        all
    }

    func page(matching filter: VideoFilter, page: Int, size: Int) async throws -> VideoPage {
        pageCalls.withLock { $0.append(Call(page: page, ids: filter.videoNos?.count ?? 0)) }
        var matching = all
        if let ids = filter.videoNos { matching = matching.filter { ids.contains($0.videoNo) } }
        let start = min(matching.count, (page - 1) * size)
        if page == 1, filter.videoNos == nil, let moved = next.withLock({ value in defer { value = nil }; return value }) {
            defer { replace(moved) }
            return VideoPage(
                currentPage: page, pageSize: size, totalCount: Int64(matching.count),
                videos: Array(matching[start..<min(matching.count, start + size)]))
        }
        return VideoPage(
            currentPage: page, pageSize: size, totalCount: Int64(matching.count),
            videos: Array(matching[start..<min(matching.count, start + size)]))
    }

    func delete(videoNos: [String]) async throws {}
}
