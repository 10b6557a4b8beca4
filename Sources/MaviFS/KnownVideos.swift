import MaviAPI

/// Every video the mount knows, by number, and its name: the full listing as the catalog handed
/// it over (the same array, shared, not copied into a dictionary), its names in the same order,
/// an index of positions; and the few videos a filtered view showed that the full listing lacks,
/// or showed in a newer state.
///
/// At 100,000 videos the index costs a few megabytes where a dictionary of records cost tens,
/// and the folder of the full listing takes its names as they are, without a lookup per video.
struct KnownVideos {
    private var listing: [Video] = []
    private var listingNames: [String] = []
    private var positions: [String: Int] = [:]
    /// Records from filtered views: absent from the listing, or newer than its record.
    private var newer: [String: Video] = [:]
    /// Names over the listing and the videos only filtered views showed, once there are any
    /// (names are given over everything known, so that they never collide).
    private var allNames: [String: String]?
    /// Deleted through the mount since the listing was handed over.
    private var removed: Set<String> = []

    subscript(videoNo: String) -> Video? {
        if let video = newer[videoNo] { return video }
        guard let position = positions[videoNo], !removed.contains(videoNo) else { return nil }
        return listing[position]
    }

    /// The video's name in every view (by-id aside).
    func name(of videoNo: String) -> String? {
        if let allNames { return allNames[videoNo] }
        return positions[videoNo].map { listingNames[$0] }
    }

    /// The names of `videos`, in order; for the full listing itself, the names as they are.
    func names(of videos: [Video]) -> [String?] {
        if allNames == nil, videos.count == listing.count, Self.sameStorage(videos, listing) { return listingNames }
        return videos.map { name(of: $0.videoNo) }
    }

    /// A new full listing: what it lacks is gone, what filtered views showed before is older.
    mutating func replaceListing(_ videos: [Video]) {
        positions = [:]
        positions.reserveCapacity(videos.count)
        var duplicates = false
        for (position, video) in videos.enumerated() {
            if positions[video.videoNo] == nil { positions[video.videoNo] = position } else { duplicates = true }
        }
        if duplicates {
            // Each video once, at its first place.
            var seen = Set<String>()
            listing = videos.filter { seen.insert($0.videoNo).inserted }
            positions = Dictionary(uniqueKeysWithValues: listing.enumerated().map { ($1.videoNo, $0) })
        } else {
            listing = videos
        }
        listingNames = FileNaming.nameList(for: listing)
        newer = [:]
        allNames = nil
        removed = []
    }

    /// Records videos a filtered view showed; `true` when one was not known at all (names were
    /// given again, over everything known).
    mutating func note(_ videos: [Video]) -> Bool {
        var added = false
        for video in videos {
            let listed = positions[video.videoNo].flatMap { removed.contains(video.videoNo) ? nil : listing[$0] }
            if listed == video {
                newer[video.videoNo] = nil
                continue
            }
            if listed == nil, newer[video.videoNo] == nil { added = true }
            newer[video.videoNo] = video
        }
        if added { allNames = FileNaming.names(for: all) }
        return added
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

    /// Whether two arrays are one and the same storage (the catalog's listing handed on).
    private static func sameStorage(_ a: [Video], _ b: [Video]) -> Bool {
        a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress } }
    }
}
