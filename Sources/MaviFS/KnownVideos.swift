import MaviAPI
import MaviLibrary

/// Every video the mount knows, by number, and its name: the full listing as the catalog handed
/// it over (the same packed table, shared, not copied), its names in the same order; and the few
/// videos a filtered view showed that the full listing lacks, or showed in a newer state.
///
/// The table's own index finds a video by number, so nothing here is kept per video but its
/// name; the folder of the full listing takes the names as they are, without a lookup per video.
struct KnownVideos {
    private(set) var listing = VideoTable()
    private var listingNames = PackedStrings()
    /// The listing's bytes, added up once per listing (`df` asks often).
    private var listingBytes: UInt64 = 0
    /// Records from filtered views: absent from the listing, or newer than its record.
    private var newer: [String: Video] = [:]
    /// Names over the listing and the videos only filtered views showed, once there are any
    /// (names are given over everything known, so that they never collide).
    private var allNames: (numbers: PackedStrings, names: PackedStrings)?
    /// Deleted through the mount (whether the listing still holds them or not).
    private var removed: Set<String> = []

    subscript(videoNo: String) -> Video? {
        if let video = newer[videoNo] { return video }
        guard !removed.contains(videoNo), let position = listing.position(of: videoNo) else { return nil }
        return listing[position]
    }

    /// The video's name in every view (by-id aside).
    func name(of videoNo: String) -> String? {
        if let allNames { return allNames.numbers.firstPosition(of: videoNo).map { allNames.names[$0] } }
        return listing.position(of: videoNo).map { listingNames[$0] }
    }

    /// The names of the listing's videos, in its order, when they are given over the listing
    /// alone (no filtered view has shown a video it lacks).
    func listingNames(of table: VideoTable) -> PackedStrings? {
        allNames == nil && table.isSameStorage(as: listing) ? listingNames : nil
    }

    /// A new full listing: what it lacks is gone, what filtered views showed before is older;
    /// `hidden` are videos it still holds that were deleted through the mount.
    mutating func replaceListing(_ videos: VideoTable, hidden: Set<String>) {
        // Each video once, at its first place.
        listing = videos.hasDuplicates ? videos.keeping { videos.position(of: videos.videoNo(at: $0)) == $0 } : videos
        listingNames = FileNaming.packedNames(for: listing)
        listingBytes = listing.indices.reduce(0) { $0 + UInt64(max(0, listing.size(at: $1) ?? 0)) }
        newer = [:]
        allNames = nil
        removed = hidden
    }

    /// Records videos a filtered view showed; `true` when one was not known at all (names were
    /// given again, over everything known).
    mutating func note(_ videos: some Sequence<Video>) -> Bool {
        var added = false
        for video in videos where !removed.contains(video.videoNo) {
            let listed = removed.contains(video.videoNo) ? nil : listing.position(of: video.videoNo).map { listing[$0] }
            if listed == video {
                newer[video.videoNo] = nil
                continue
            }
            if listed == nil, newer[video.videoNo] == nil { added = true }
            newer[video.videoNo] = video
        }
        if added {
            let all = all
            allNames = (PackedStrings(all.numbers), FileNaming.packedNames(for: all))
        }
        return added
    }

    mutating func remove(_ videoNo: String) {
        newer[videoNo] = nil
        removed.insert(videoNo)
    }

    /// Whether the listing's video at `position` is not shown as it is listed (replaced by a
    /// newer record, or deleted through the mount).
    private func isSuperseded(_ position: Int) -> Bool {
        guard !newer.isEmpty || !removed.isEmpty else { return false }
        let videoNo = listing.videoNo(at: position)
        return newer[videoNo] != nil || removed.contains(videoNo)
    }

    /// Every known video once: the listing's order, then the others; each record made when asked
    /// for (naming a million videos makes them one at a time).
    var all: AllKnown {
        AllKnown(listing: listing, shown: listing.indices.filter { !isSuperseded($0) }, others: Array(newer.values))
    }

    struct AllKnown: RandomAccessCollection {
        let listing: VideoTable
        let shown: [Int]
        let others: [Video]

        var startIndex: Int { 0 }
        var endIndex: Int { shown.count + others.count }

        subscript(position: Int) -> Video {
            position < shown.count ? listing[shown[position]] : others[position - shown.count]
        }

        /// Their numbers, in the same order, without making their records.
        var numbers: some Sequence<String> {
            indices.lazy.map { position in
                position < shown.count ? listing.videoNo(at: shown[position]) : others[position - shown.count].videoNo
            }
        }
    }

    /// How many videos, and their bytes: the listing's, less what was deleted or replaced since,
    /// plus what filtered views showed (a lookup each, no pass over the listing).
    var totals: (count: Int, bytes: UInt64) {
        var count = listing.count
        var bytes = listingBytes
        for videoNo in removed.union(newer.keys) {
            guard let position = listing.position(of: videoNo) else { continue }
            count -= 1
            bytes -= UInt64(max(0, listing.size(at: position) ?? 0))
        }
        for video in newer.values {
            count += 1
            bytes += UInt64(max(0, video.size ?? 0))
        }
        return (count, bytes)
    }
}
