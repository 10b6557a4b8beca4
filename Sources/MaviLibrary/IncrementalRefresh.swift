import MaviAPI
import MaviClient

/// Brings the full listing up to date by reading it from the top instead of relisting every page.
///
/// `list_videos` answers newest first (by `create_time`, as the service's own examples show and
/// `mavifs serve` does), so what was uploaded since the last listing is on the first pages, ahead
/// of the newest video already known. A refresh reads pages from the top until a known video
/// appears, then checks what it cannot see:
/// - `total_count` must equal the videos known plus the new ones; a smaller count means videos
///   were deleted elsewhere, a larger one that videos arrived out of order. Either way the listing
///   is fetched whole.
/// - The videos still processing (`UNPARSE`) are asked for by id (`video_nos`, 100 a call), since
///   their status and fields change in place, where no page from the top shows them.
/// - The order itself is checked on every page read: times that do not decrease, or known videos
///   that do not follow each other as they did, mean the order cannot be relied on, and the
///   listing is fetched whole.
///
/// An unchanged library with nothing processing costs one call, whatever its size.
struct IncrementalRefresh {
    /// What the refresh found.
    enum Outcome: Equatable {
        /// The listing brought up to date, and the calls it took.
        case updated(videos: VideoTable, calls: Int)
        /// The listing cannot be brought up to date from the top; it must be fetched whole.
        case relistWhole(reason: String, calls: Int)
    }

    /// The size of the pages read from the top: most refreshes find a known video on the first.
    static let pageSize = APILimits.defaultPageSize
    /// The most ids one `video_nos` query may carry.
    static let idsPerCheck = 100

    let source: any VideoListingSource

    /// Brings `previous` (the last full listing, newest first, without the `hidden` videos) up to
    /// date. `pending` are the hidden videos whose delete the server has not confirmed: it still
    /// lists and counts them. `wholeListingCalls` is what fetching it whole would cost: a refresh
    /// that would cost more gives up and says so.
    func refresh(previous: VideoTable, hidden: Set<String>, pending: Set<String> = [], wholeListingCalls: Int) async throws -> Outcome {
        guard let newestKnown = previous.first else { return .relistWhole(reason: "no previous listing", calls: 0) }
        var calls = 0
        var top: [Video] = []
        var total: Int64 = 0
        var anchor: Int?
        var page = 1
        while anchor == nil {
            if calls >= wholeListingCalls { return .relistWhole(reason: "more new videos than a whole listing costs", calls: calls) }
            let answer = try await source.page(matching: VideoFilter(), page: page, size: Self.pageSize)
            calls += 1
            total = answer.totalCount
            let start = top.count
            top.append(contentsOf: answer.videos)
            if !Self.isNewestFirst(top, from: max(0, start - 1)) || answer.videos.contains(where: { $0.createTime == nil }) {
                return .relistWhole(reason: "the listing is not in newest-first order", calls: calls)
            }
            anchor = top[start...].firstIndex { $0.videoNo == newestKnown.videoNo }
            if anchor == nil, let newest = newestKnown.createTime, top[start...].contains(where: { ($0.createTime ?? .max) < newest }) {
                // Past where the newest known video should be, and it is not there: it is gone.
                return .relistWhole(reason: "the newest known video is no longer listed", calls: calls)
            }
            if anchor == nil, answer.videos.count < Self.pageSize { break }
            page += 1
        }
        guard let anchor else { return .relistWhole(reason: "the newest known video is no longer listed", calls: calls) }
        // A video read twice: the listing moved down while it was read (an upload between two
        // pages), and the video that moved it onto a page already read was missed.
        var read = Set<String>()
        guard top.allSatisfy({ read.insert($0.videoNo).inserted }) else {
            return .relistWhole(reason: "the listing moved while it was read", calls: calls)
        }

        // What was read past the anchor must be the known videos, in their known order.
        let overlap = top[anchor...].filter { !hidden.contains($0.videoNo) }
        guard overlap.count <= previous.count,
            zip(overlap, previous).allSatisfy({ $0.videoNo == $1.videoNo })
        else { return .relistWhole(reason: "known videos are missing, or listed in another order", calls: calls) }

        let added = top[..<anchor].filter { !hidden.contains($0.videoNo) }
        // Hidden videos still on the server are counted there: those the pages read show, and
        // those whose delete is on its way wherever they are listed.
        let hiddenOnServer = Set(top.lazy.map(\.videoNo).filter(hidden.contains)).union(pending.intersection(hidden))
        let expected = Int64(added.count + previous.count + hiddenOnServer.count)
        guard total == expected else {
            return .relistWhole(reason: "the server counts \(total) videos, the listing \(expected)", calls: calls)
        }

        // Nothing new and nothing changed on the pages read: the previous listing itself, shared
        // rather than copied (a large library is not held twice while nothing changes).
        let unchanged = added.isEmpty && zip(overlap, previous).allSatisfy { $0 == $1 }
        var videos = previous
        if !unchanged {
            var builder = VideoTable.Builder(capacity: added.count + previous.count)
            builder.append(contentsOf: added)
            builder.append(contentsOf: overlap)
            builder.append(rows: overlap.count..<previous.count, of: previous)
            videos = builder.build()
        }
        // Videos read from the top just now are current; the older ones still processing are not.
        let processing = videos.indices.dropFirst(added.count + overlap.count).filter { videos.isProcessing(at: $0) }
        let checks = (processing.count + Self.idsPerCheck - 1) / Self.idsPerCheck
        if calls + checks > wholeListingCalls {
            return .relistWhole(reason: "more videos processing than a whole listing costs", calls: calls)
        }
        var gone: Set<Int> = []
        var replacements: [Int: Video] = [:]
        for batch in stride(from: 0, to: processing.count, by: Self.idsPerCheck) {
            let positions = processing[batch..<min(batch + Self.idsPerCheck, processing.count)]
            let ids = positions.map { videos.videoNo(at: $0) }
            let answer = try await source.page(matching: VideoFilter(videoNos: ids), page: 1, size: ids.count)
            calls += 1
            // A page shorter than its count (a service capping page sizes) would make listed videos
            // look deleted.
            guard answer.totalCount <= Int64(answer.videos.count) else {
                return .relistWhole(reason: "a check of videos processing came back in part", calls: calls)
            }
            var current = Dictionary(answer.videos.map { ($0.videoNo, $0) }, uniquingKeysWith: { first, _ in first })
            for position in positions {
                if let now = current.removeValue(forKey: videos.videoNo(at: position)) {
                    if now != videos[position] { replacements[position] = now }
                } else {
                    gone.insert(position)
                }
            }
        }
        return .updated(videos: videos.updating(replacements, dropping: gone), calls: calls)
    }

    /// Whether `videos` from `start` on never go up in `create_time`.
    static func isNewestFirst(_ videos: [Video], from start: Int) -> Bool {
        guard start + 1 < videos.count else { return true }
        for i in (start + 1)..<videos.count where (videos[i].createTime ?? .max) > (videos[i - 1].createTime ?? .min) {
            return false
        }
        return true
    }
}
