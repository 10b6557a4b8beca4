import Foundation
import Hummingbird
import MaviAPI
@testable import MaviClient
import Synchronization
import Testing

@Suite("Listing videos", .timeLimit(.minutes(1)))
struct ListingTests {
    @Test("a page with numbers as JSON numbers and a FAILED status")
    func pageWithNumbers() async throws {
        let server = ReplayServer()
        server.on(APIPath.listVideos, replies: [.json(Fixtures.listNumbers)])
        let page = try await server.run { url in
            try await withTestClient(testConfiguration(url)) { try await $0.listVideos() }
        }
        #expect(page.totalCount == 2 && page.videos.count == 2)
        #expect(page.videos[0].datetimeTaken == 1_729_388_400_000 && page.videos[0].cameraModel == "Canon EOS 5D")
        #expect(page.videos[1].status.isFailed && page.videos[1].cause == "decode error")
    }

    @Test("a page with numbers as strings, nulls and cause \"null\"")
    func pageWithStrings() async throws {
        let server = ReplayServer()
        server.on(APIPath.listVideos, replies: [.json(Fixtures.listPageStrings(page: 1, pageSize: 20, total: 1, videoNos: ["VI702915390254350336"]))])
        let page = try await server.run { url in
            try await withTestClient(testConfiguration(url)) { try await $0.listVideos(size: 20) }
        }
        let video = try #require(page.videos.first)
        #expect(video.size == 7_798_243 && video.duration == 105 && video.cause == nil && video.fps == nil)
        #expect(video.videoURL == "https://mavi-resource.openinterx.com/VI702915390254350336.mp4")
    }

    @Test("every filter is sent in the documented form, with the namespace and the raw key")
    func filtersAndHeaders() async throws {
        let server = ReplayServer()
        server.on(APIPath.listVideos, replies: [.json(Fixtures.listNumbers)])
        let filter = VideoFilter(
            videoName: "clip", videoNo: "VI1", videoNos: ["VI1", "VI2"], status: .failed(spelling: "FAILED"),
            cameraModel: "Canon EOS 5D", tag: "holiday", takenAtOrAfter: 1_729_388_400_000,
            near: GeoPoint(latitude: 39.9042, longitude: 116.4074)
        )
        try await server.run { url in
            _ = try await withTestClient(testConfiguration(url)) { try await $0.listVideos(filter: filter, page: 3, size: 50) }
        }
        let request = try #require(server.requests(to: APIPath.listVideos).first)
        #expect(request.method == .post)
        #expect(request.authorization == Fixtures.testKey)
        #expect(request.headers[.contentType] == "application/json")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(request.bodyText.utf8)) as? [String: Any])
        #expect(body["page"] as? Int == 3 && body["size"] as? Int == 50)
        #expect(body["unique_id"] as? String == "test-space")
        #expect(body["video_name"] as? String == "clip" && body["video_no"] as? String == "VI1")
        #expect(body["video_nos"] as? [String] == ["VI1", "VI2"])
        #expect(body["status"] as? String == "FAIL", "the live enum spelling, whatever spelling was read")
        #expect(body["camera_model"] as? String == "Canon EOS 5D" && body["tag"] as? String == "holiday")
        #expect((body["datetime_taken"] as? NSNumber)?.int64Value == 1_729_388_400_000)
        #expect(body["latitude"] as? Double == 39.9042 && body["longitude"] as? Double == 116.4074)
    }

    @Test("the Bearer scheme, when configured")
    func bearerScheme() async throws {
        let server = ReplayServer()
        server.on(APIPath.listVideos, replies: [.json(Fixtures.listNumbers)])
        try await server.run { url in
            _ = try await withTestClient(testConfiguration(url, authScheme: .bearer)) { try await $0.listVideos() }
        }
        #expect(server.requests.first?.authorization == "Bearer \(Fixtures.testKey)")
    }

    @Test("no key, no Authorization header")
    func noKey() async throws {
        let server = ReplayServer()
        server.on(APIPath.listVideos, replies: [.json(Fixtures.listNumbers)])
        try await server.run { url in
            _ = try await withTestClient(testConfiguration(url, key: nil)) { try await $0.listVideos() }
        }
        #expect(server.requests.first?.authorization == nil)
    }

    @Test("a success with data null is an empty page")
    func nullData() async throws {
        let server = ReplayServer()
        server.on(APIPath.listVideos, replies: [.envelope("0000", "success")])
        let page = try await server.run { url in
            try await withTestClient(testConfiguration(url)) { try await $0.listVideos() }
        }
        #expect(page.videos.isEmpty && page.totalCount == 0)
    }

    @Test("get_metadata: a video with resolution fields, and nil for an unknown id")
    func metadata() async throws {
        let server = ReplayServer()
        server.on(APIPath.getMetadata) { request, _ in
            request.queryValue("video_no") == "VI1" ? Reply.json(Fixtures.metadata).response() : Reply.envelope("0000", "success").response()
        }
        let (known, unknown) = try await server.run { url in
            try await withTestClient(testConfiguration(url)) { client in
                (try await client.getMetadata(videoNo: "VI1"), try await client.getMetadata(videoNo: "VI404"))
            }
        }
        #expect(known?.width == 1920 && known?.fps == 29.97 && known?.resolutionLabel == "1080p")
        #expect(unknown == nil)
        let request = try #require(server.requests.first)
        #expect(request.method == .get && request.queryValue("unique_id") == "test-space")
    }

    /// Serves `total` videos in pages of at most `cap` items, whatever size is asked.
    private func pagedServer(total: Int, cap: Int = .max, refuseAbove: Int = .max) -> ReplayServer {
        let server = ReplayServer()
        server.on(APIPath.listVideos) { request, _ in
            let body = try JSONDecoder().decode(ListVideosRequest.self, from: request.bodyData)
            let page = body.page ?? 1
            if body.size ?? 200 > refuseAbove {
                return Reply.envelope("0001", "size is invalid").response()
            }
            let size = min(body.size ?? 200, cap)
            let start = (page - 1) * size
            let ids = start < total ? (start..<min(start + size, total)).map { String(format: "VI%06d", $0) } : []
            return Reply.json(Fixtures.listPageStrings(page: page, pageSize: size, total: total, videoNos: ids)).response()
        }
        return server
    }

    @Test("the page sequence walks every page in order")
    func pageSequence() async throws {
        let server = pagedServer(total: 250)
        let pages = try await server.run { url in
            try await withTestClient(testConfiguration(url)) { client in
                var pages: [VideoPage] = []
                for try await page in client.videoPages(size: 100) { pages.append(page) }
                return pages
            }
        }
        #expect(pages.map(\.videos.count) == [100, 100, 50])
        #expect(pages.flatMap(\.videos).map(\.videoNo) == (0..<250).map { String(format: "VI%06d", $0) })
        #expect(server.requests.count == 3)
    }

    @Test("the page sequence follows total_count when the server caps the page size")
    func pageSequenceWithCap() async throws {
        let server = pagedServer(total: 120, cap: 50)
        let count = try await server.run { url in
            try await withTestClient(testConfiguration(url)) { client in
                var count = 0
                for try await page in client.videoPages(size: 200) { count += page.videos.count }
                return count
            }
        }
        #expect(count == 120)
        #expect(server.requests.count == 3)
    }

    @Test("all videos in parallel: every page once, in order, without duplicates")
    func allVideosInParallel() async throws {
        let server = pagedServer(total: 10_000)
        let videos = try await server.run { url in
            try await withTestClient(testConfiguration(url)) { try await $0.allVideos(size: 500, maxConcurrentRequests: 4) }
        }
        #expect(videos.count == 10_000)
        #expect(videos.map(\.videoNo) == (0..<10_000).map { String(format: "VI%06d", $0) })
        // 20 pages and no more: the last full page holds all the count said, so nothing was
        // added past it.
        let pages = try server.requests.map { try JSONDecoder().decode(ListVideosRequest.self, from: $0.bodyData).page ?? 0 }
        #expect(pages.sorted() == Array(1...20))
    }

    @Test("videos added while paging: the pages past the first count are followed until they hold all the last count said")
    func allVideosWhileAdded() async throws {
        // After the first page, 100 videos arrive at the top and push every other one down.
        let served = Mutex(0)
        let server = ReplayServer()
        server.on(APIPath.listVideos) { request, _ in
            let body = try JSONDecoder().decode(ListVideosRequest.self, from: request.bodyData)
            let page = body.page ?? 1
            let size = body.size ?? 200
            let added = served.withLock { count in
                count += 1
                return count > 1 ? 100 : 0
            }
            let all = (0..<added).map { String(format: "VN%06d", $0) } + (0..<1000).map { String(format: "VI%06d", $0) }
            let start = (page - 1) * size
            let ids = start < all.count ? Array(all[start..<min(start + size, all.count)]) : []
            return Reply.json(Fixtures.listPageStrings(page: page, pageSize: size, total: all.count, videoNos: ids)).response()
        }
        let videos = try await server.run { url in
            try await withTestClient(testConfiguration(url)) { try await $0.allVideos(size: 500, maxConcurrentRequests: 1) }
        }
        let pages = try server.requests.map { try JSONDecoder().decode(ListVideosRequest.self, from: $0.bodyData).page ?? 0 }
        #expect(pages == [1, 2, 3], "the third page holds what the second count added")
        #expect(Set(videos.map(\.videoNo)).isSuperset(of: (0..<1000).map { String(format: "VI%06d", $0) }), "no video that was there is missed")
    }

    @Test("all videos with a capped page size uses the size the server really serves")
    func allVideosWithCap() async throws {
        let server = pagedServer(total: 1_030, cap: 100)
        let videos = try await server.run { url in
            try await withTestClient(testConfiguration(url)) { try await $0.allVideos(size: 1_000) }
        }
        #expect(Set(videos.map(\.videoNo)).count == 1_030 && videos.count == 1_030)
    }

    @Test("a page size the server refuses as a parameter error is asked again at the documented default")
    func allVideosRefusedSize() async throws {
        let server = pagedServer(total: 450, refuseAbove: 200)
        let videos = try await server.run { url in
            try await withTestClient(testConfiguration(url)) { try await $0.allVideos(size: APILimits.largeListPageSize) }
        }
        #expect(videos.map(\.videoNo) == (0..<450).map { String(format: "VI%06d", $0) })
        let sizes = try server.requests.map { try JSONDecoder().decode(ListVideosRequest.self, from: $0.bodyData).size ?? 0 }
        #expect(sizes.first == APILimits.largeListPageSize && sizes.dropFirst().allSatisfy { $0 == 200 })
    }

    @Test("all videos of a single page takes one request")
    func allVideosSinglePage() async throws {
        let server = pagedServer(total: 7)
        let videos = try await server.run { url in
            try await withTestClient(testConfiguration(url)) { try await $0.allVideos() }
        }
        #expect(videos.count == 7 && server.requests.count == 1)
    }
}
