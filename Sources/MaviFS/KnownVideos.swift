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
    /// Records from filtered views: absent from the listing, or newer than its record.
    private var newer: [String: Video] = [:]
    /// Names over the listing and the videos only filtered views showed, once there are any
    /// (names are given over everything known, so that they never collide).
    private var allNames: [String: String]?
    /// Deleted through the mount since the listing was handed over.
    private var removed: Set<String> = []

    subscript(videoNo: String) -> Video? {
        if let video = newer[videoNo] { return video }
        guard !removed.contains(videoNo), let position = listing.position(of: videoNo) else { return nil }
        return listing[position]
    }

    /// The video's name in every view (by-id aside).
    func name(of videoNo: String) -> String? {
        if let allNames { return allNames[videoNo] }
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
        newer = [:]
        allNames = nil
        removed = hidden.filter { listing.position(of: $0) != nil }
    }

    /// Records videos a filtered view showed; `true` when one was not known at all (names were
    /// given again, over everything known).
    mutating func note(_ videos: some Sequence<Video>) -> Bool {
        var added = false
        for video in videos {
            let listed = removed.contains(video.videoNo) ? nil : listing.position(of: video.videoNo).map { listing[$0] }
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
        if listing.position(of: videoNo) != nil { removed.insert(videoNo) }
    }

    /// Whether the listing's video at `position` is not shown as it is listed (replaced by a
    /// newer record, or deleted through the mount).
    private func isSuperseded(_ position: Int) -> Bool {
        guard !newer.isEmpty || !removed.isEmpty else { return false }
        let videoNo = listing.videoNo(at: position)
        return newer[videoNo] != nil || removed.contains(videoNo)
    }

    /// Every known video once: the listing's order, then the others.
    var all: [Video] {
        var result = listing.indices.filter { !isSuperseded($0) }.map { listing[$0] }
        result.append(contentsOf: newer.values)
        return result
    }

    /// How many videos, and their bytes, without making a record of any.
    var totals: (count: Int, bytes: UInt64) {
        var count = 0
        var bytes: UInt64 = 0
        for position in listing.indices where !isSuperseded(position) {
            count += 1
            bytes += UInt64(max(0, listing.size(at: position) ?? 0))
        }
        for video in newer.values {
            count += 1
            bytes += UInt64(max(0, video.size ?? 0))
        }
        return (count, bytes)
    }
}
