import MaviAPI
import NIOHTTP1

extension MaviClient {
    /// One page of videos (pages count from 1).
    public func listVideos(filter: VideoFilter = VideoFilter(), page: Int = 1, size: Int = APILimits.defaultPageSize) async throws -> VideoPage {
        guard page >= 1, size >= 1 else {
            throw MaviClientError.invalidRequest(endpoint: .listVideos, reason: "page and size must be at least 1 (page \(page), size \(size))")
        }
        let body = Self.jsonBody(filter.request(page: page, size: size, namespace: configuration.namespace))
        let page = try await callJSON(.listVideos, method: .POST, body: body, decoding: VideoPage.self)
        // A success with `data: null` is read as an empty result.
        return page ?? VideoPage(currentPage: 1, pageSize: size, totalCount: 0, videos: [])
    }

    /// The details of one video (the list fields plus fps, width, height, resolution label), or
    /// `nil` when the service does not know the id.
    public func getMetadata(videoNo: String) async throws -> Video? {
        guard !videoNo.isEmpty else {
            throw MaviClientError.invalidRequest(endpoint: .getMetadata, reason: "empty video number")
        }
        return try await callJSON(
            .getMetadata, method: .GET,
            query: ["video_no": videoNo, "unique_id": configuration.namespace],
            decoding: Video.self
        )
    }

    /// Walks every page in order, one request at a time.
    public func videoPages(filter: VideoFilter = VideoFilter(), size: Int = APILimits.defaultPageSize) -> VideoPages {
        VideoPages(client: self, filter: filter, size: size)
    }

    /// The most videos one listing may claim; a reply claiming more is refused rather than paged
    /// through (a count of billions would never end).
    public static let maxListedVideos = 2_000_000

    /// Every matching video, fast: the first page tells how many there are, then the other pages
    /// are fetched concurrently (at most `maxConcurrentRequests` at once, and within the list rate
    /// limit). Videos are returned in page order, each once even if the listing shifted while it
    /// was read.
    ///
    /// The service may cap the page size; the size of a full first page is taken as the real one.
    /// A size above the documented default that the service refuses as a parameter error is asked
    /// again at the default, since the documentation sets no maximum.
    public func allVideos(filter: VideoFilter = VideoFilter(), size: Int = APILimits.defaultPageSize, maxConcurrentRequests: Int = 5) async throws -> [Video] {
        var result: [Video] = []
        try await forEachVideo(filter: filter, size: size, maxConcurrentRequests: maxConcurrentRequests, reserve: { result.reserveCapacity($0) }) {
            result.append($0)
        }
        return result
    }

    /// Every matching video, as ``allVideos(filter:size:maxConcurrentRequests:)`` finds them,
    /// handed to `body` in order as their pages join, so that a caller packing them keeps no
    /// array of records. `reserve` is told how many to expect once the first page has come.
    /// A caller that drops a number it has seen already itself (a packed table's index does)
    /// passes `unique: false`, and no set of a million numbers is kept here.
    public func forEachVideo(
        filter: VideoFilter = VideoFilter(), size: Int = APILimits.defaultPageSize, maxConcurrentRequests: Int = 5,
        unique: Bool = true, reserve: (Int) -> Void = { _ in }, _ body: (Video) -> Void
    ) async throws {
        var size = size
        let first: VideoPage
        do {
            first = try await listVideos(filter: filter, page: 1, size: size)
        } catch MaviClientError.invalidParameter where size > APILimits.defaultPageSize {
            size = APILimits.defaultPageSize
            first = try await listVideos(filter: filter, page: 1, size: size)
        }
        let total = Int(clamping: first.totalCount)
        let perPage = first.videos.count
        guard perPage > 0, perPage < total else {
            first.videos.forEach(body)
            return
        }
        guard total <= Self.maxListedVideos else {
            throw MaviClientError.invalidResponse(
                endpoint: .listVideos, reason: "the listing claims \(first.totalCount) videos, more than the \(Self.maxListedVideos) a listing may hold")
        }

        let lastPage = (total + perPage - 1) / perPage
        // Pages join the result in order as soon as the ones before them have: only pages that
        // arrived early wait, so a large listing is not held twice (pages, then the result).
        reserve(total)
        var seen = Set<String>()
        if unique { seen.reserveCapacity(total) }
        var waiting: [Int: [Video]] = [:]
        var joined = 0
        var lastJoinedCount = 0
        // A short page is the end, whatever the count said: no page after it is asked for.
        var end = lastPage
        func join(_ page: Int, _ videos: [Video]) {
            waiting[page] = videos
            while joined < end, let next = waiting.removeValue(forKey: joined + 1) {
                joined += 1
                lastJoinedCount = next.count
                for video in next where !unique || seen.insert(video.videoNo).inserted { body(video) }
                if next.count < perPage { end = joined }
            }
        }
        // The largest count any page gave: one larger than the first means videos were added
        // while paging.
        var latestTotal = first.totalCount
        join(1, first.videos)
        try await withThrowingTaskGroup(of: (Int, VideoPage).self) { group in
            var next = 2
            func launch() {
                let page = next
                next += 1
                group.addTask { (page, try await self.listVideos(filter: filter, page: page, size: perPage)) }
            }
            while next <= end, next - 2 < max(1, maxConcurrentRequests) { launch() }
            while let (page, answer) = try await group.next() {
                latestTotal = max(latestTotal, answer.totalCount)
                if answer.videos.count < perPage { end = min(end, page) }
                if page <= end { join(page, answer.videos) }
                if next <= end { launch() }
            }
        }

        // Videos added while paging push others onto pages past the count we read first: follow
        // full pages until a short one, or until the pages hold all the last count said.
        var page = end
        let pageLimit = lastPage + max(lastPage, 10)
        while joined == page, lastJoinedCount == perPage, page < pageLimit, Int64(page) * Int64(perPage) < latestTotal {
            page += 1
            let answer = try await listVideos(filter: filter, page: page, size: perPage)
            latestTotal = max(latestTotal, answer.totalCount)
            end = page
            join(page, answer.videos)
        }
    }
}

/// The pages of a listing, fetched one after another as they are iterated.
///
/// It stops at an empty page or once `total_count` videos have been seen; it does not rely on
/// short pages, because the service may cap the page size below the one asked for.
public struct VideoPages: AsyncSequence, Sendable {
    public typealias Element = VideoPage
    public typealias Failure = any Error

    let client: MaviClient
    let filter: VideoFilter
    let size: Int

    public func makeAsyncIterator() -> Iterator {
        Iterator(client: client, filter: filter, size: size)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let client: MaviClient
        let filter: VideoFilter
        let size: Int
        var nextPage = 1
        var seen: Int64 = 0
        var done = false

        public mutating func next() async throws -> VideoPage? {
            guard !done else { return nil }
            let page = try await client.listVideos(filter: filter, page: nextPage, size: size)
            seen += Int64(page.videos.count)
            nextPage += 1
            // A page past the total count (or any number of pages for a count that never
            // arrives) cannot loop forever: an empty page ends the walk.
            if page.videos.isEmpty {
                done = true
                return nil
            }
            if seen >= page.totalCount || Int64(nextPage - 1) > Swift.max(page.totalCount, 1) {
                done = true
            }
            return page
        }
    }
}
