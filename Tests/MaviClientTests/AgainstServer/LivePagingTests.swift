import Foundation
import MaviAPI
@testable import MaviClient
import Testing
import TestSupport

@Suite("Against mavifs serve: paging", .timeLimit(.minutes(1)))
struct LivePagingTests {
    @Test("all videos of 1,000, 50 a page: each exactly once, newest first")
    func allVideos() async throws {
        try await withLiveLibrary { library in
            let seeded = try await library.seed(1_000)
            let videos = try await library.client.allVideos(size: 50, maxConcurrentRequests: 4)
            #expect(videos.count == seeded.count)
            #expect(Set(videos.map(\.videoNo)) == Set(seeded))
            // Seeded videos are created one after another; the service lists the newest first.
            #expect(videos.map(\.videoNo) == seeded.reversed())
            let pages = (seeded.count + 49) / 50
            let requests = library.stats.requests(.listVideos)
            // Every page once, and at most one more to see that nothing was added at the end.
            #expect(requests >= pages && requests <= pages + 1)
        }
    }

    @Test("the page sequence walks every page of a filtered listing in order, and stops")
    func pageSequence() async throws {
        try await withLiveLibrary { library in
            let seeded = try await library.seed(230)
            // What the tag filter must return, worked out from the unfiltered listing.
            let everything = try await library.client.allVideos(size: 200)
            #expect(everything.count == seeded.count)
            let beach = everything.filter { $0.tags.contains("beach") }
            #expect(!beach.isEmpty && beach.count < seeded.count)

            var pages: [VideoPage] = []
            for try await page in library.client.videoPages(filter: VideoFilter(tag: "beach"), size: 20) { pages.append(page) }
            #expect(pages.map(\.currentPage) == Array(1...pages.count))
            #expect(pages.dropLast().allSatisfy { $0.videos.count == 20 })
            #expect(pages.allSatisfy { $0.totalCount == Int64(beach.count) && $0.pageSize == 20 })
            #expect(pages.flatMap(\.videos).map(\.videoNo) == beach.map(\.videoNo))
            #expect(pages.flatMap(\.videos).allSatisfy { $0.tags.contains("beach") })
        }
    }

    @Test("a page past the end is empty and keeps the total")
    func pastTheEnd() async throws {
        try await withLiveLibrary { library in
            let seeded = try await library.seed(30)
            let page = try await library.client.listVideos(page: 3, size: 20)
            #expect(page.videos.isEmpty && page.totalCount == Int64(seeded.count) && page.currentPage == 3)
        }
    }
}
