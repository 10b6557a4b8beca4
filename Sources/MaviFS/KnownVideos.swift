import MaviAPI

/// Every video the mount knows, by number: the full listing as the catalog handed it over (the
/// same array, shared, not copied into a dictionary), with an index of positions; and the few
/// videos a filtered view showed that the full listing lacks, or showed in a newer state.
///
/// At 100,000 videos the index costs a few megabytes where a dictionary of records cost tens.
struct KnownVideos {
    private var listing: [Video] = []
    private var positions: [String: Int] = [:]
    /// Records from filtered views: absent from the listing, or newer than its record.
    private var newer: [String: Video] = [:]
    /// Deleted through the mount since the listing was handed over.
    private var removed: Set<String> = []

    subscript(videoNo: String) -> Video? {
        if let video = newer[videoNo] { return video }
        guard let position = positions[videoNo], !removed.contains(videoNo) else { return nil }
        return listing[position]
    }

    /// A new full listing: what it lacks is gone, what filtered views showed before is older.
    mutating func replaceListing(_ videos: [Video]) {
        listing = videos
        positions = [:]
        positions.reserveCapacity(videos.count)
        for (position, video) in videos.enumerated() where positions[video.videoNo] == nil {
            positions[video.videoNo] = position
        }
        newer = [:]
        removed = []
    }

    /// Records a video a filtered view showed; `true` when the mount did not know it at all.
    mutating func note(_ video: Video) -> Bool {
        let listed = positions[video.videoNo].flatMap { removed.contains(video.videoNo) ? nil : listing[$0] }
        if listed == video {
            newer[video.videoNo] = nil
            return false
        }
        let known = listed != nil || newer[video.videoNo] != nil
        newer[video.videoNo] = video
        return !known
    }

    mutating func remove(_ videoNo: String) {
        newer[videoNo] = nil
        if positions[videoNo] != nil { removed.insert(videoNo) }
    }

    /// Every known video once: the listing's order, then the others.
    var all: [Video] {
        guard !newer.isEmpty || !removed.isEmpty else { return listing }
        var result = listing.filter { newer[$0.videoNo] == nil && !removed.contains($0.videoNo) }
        result.append(contentsOf: newer.values)
        return result
    }

    /// How many videos, and their bytes, without copying anything.
    var totals: (count: Int, bytes: UInt64) {
        var count = 0
        var bytes: UInt64 = 0
        for video in listing where newer[video.videoNo] == nil && !removed.contains(video.videoNo) {
            count += 1
            bytes += UInt64(max(0, video.size ?? 0))
        }
        for video in newer.values {
            count += 1
            bytes += UInt64(max(0, video.size ?? 0))
        }
        return (count, bytes)
    }
}
