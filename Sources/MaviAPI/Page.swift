/// What a page of a paged reply holds.
public protocol PageItem: Codable, Sendable, Equatable {
    /// Whether an item that cannot be read fails the whole page, or only costs that item.
    static var badItemFailsPage: Bool { get }
}

/// The `data` of a paged reply (`list_videos`, `search_audio_transcripts`): one page of `videos`,
/// `total_count` a string on the wire.
public struct Page<Item: PageItem>: Sendable, Equatable {
    public var currentPage: Int
    public var pageSize: Int
    public var totalCount: Int64
    public var videos: [Item]

    public init(currentPage: Int, pageSize: Int, totalCount: Int64, videos: [Item]) {
        self.currentPage = currentPage
        self.pageSize = pageSize
        self.totalCount = totalCount
        self.videos = videos
    }

    enum CodingKeys: String, CodingKey {
        case currentPage = "current_page", pageSize = "page_size", totalCount = "total_count", videos
    }
}

extension Page: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        currentPage = c.lenientInt(.currentPage) ?? 1
        pageSize = c.lenientInt(.pageSize) ?? 0
        if Item.badItemFailsPage {
            videos = (try c.decodeIfPresent([Item].self, forKey: .videos)) ?? []
        } else if var list = try? c.nestedUnkeyedContainer(forKey: .videos) {
            videos = LenientList.decode(Item.self, from: &list)
        } else {
            videos = []
        }
        totalCount = c.lenientInt64(.totalCount) ?? Int64(videos.count)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(currentPage, forKey: .currentPage)
        try c.encode(pageSize, forKey: .pageSize)
        // The live service sends total_count as a string.
        try c.encode(String(totalCount), forKey: .totalCount)
        try c.encode(videos, forKey: .videos)
    }
}
