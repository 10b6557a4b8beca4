import FUSE
import Foundation
import MaviAPI
import MaviClient
import MaviLibrary

extension MaviFileSystem {
    /// What a directory holds, from cached listings when they are fresh.
    func contents(of view: View) async throws -> [DirectoryItem] {
        switch view {
        case .root:
            let covers = self.covers == nil ? [] : [directoryItem(Self.coversDirectoryName, .covers)]
            return covers + View.topLevel.map { directoryItem($0.0, $0.1) }
        case .covers:
            return try await coverItems().items
        case .statuses:
            return VideoStatus.filterValues.map { directoryItem($0, .status($0)) }
        case .tags, .cameras, .years, .year, .month:
            return try await derivedContents(of: view).items
        case .all, .status, .tag, .camera, .day, .byID:
            return try await videoItems(in: view).filter { !$0.removed }
        }
    }

    /// Tags, cameras and dates, made from the full listing once per fetch of it: a `find` over
    /// the tree looks these up thousands of times, and each rebuild walks every video.
    func derivedContents(of view: View) async throws -> DirectoryContents {
        let full = try await fullListing()
        let key = ContentsKey(listings: [full.revision], naming: 0)
        if let cached = state.withLock({ $0.contents[view] }), cached.key == key {
            return cached
        }
        let items = derivedItems(of: view, from: full.videos)
        var index: [String: Int] = [:]
        for (i, item) in items.enumerated() { index[item.name] = i }
        let contents = DirectoryContents(key: key, items: items, index: index)
        state.withLock { $0.contents[view] = contents }
        return contents
    }

    private func derivedItems(of view: View, from videos: [Video]) -> [DirectoryItem] {
        let calendar = options.calendar
        let days = { videos.compactMap { $0.displayTimeMilliseconds.map { calendarDay($0, calendar) } } }
        switch view {
        case .tags:
            return namedDirectories(Set(videos.flatMap(\.tags)).sorted(), View.tag)
        case .cameras:
            return namedDirectories(Set(videos.compactMap(\.cameraModel).filter { !$0.isEmpty }).sorted(), View.camera)
        case .years:
            return Set(days().map(\.0)).sorted().map { directoryItem(String(format: "%04d", $0), .year($0)) }
        case .year(let y):
            return Set(days().filter { $0.0 == y }.map(\.1)).sorted().map { directoryItem(String(format: "%02d", $0), .month(y, $0)) }
        case .month(let y, let m):
            return Set(days().filter { $0.0 == y && $0.1 == m }.map(\.2)).sorted().map { directoryItem(String(format: "%02d", $0), .day(y, m, $0)) }
        default:
            return []
        }
    }

    /// The child called `name` in `view`, looking further than the listing where a view allows it:
    /// a tag or camera not listed yet is asked of the server, and so is an id in `by-id`.
    func child(named name: String, in view: View) async throws -> DirectoryItem? {
        if view.listsVideos {
            let items = try await videoItems(in: view)
            if let i = state.withLock({ $0.contents[view]?.index[name] }), i < items.count, items[i].name == name {
                return items[i]
            }
        } else if view == .covers {
            return try await coverChild(named: name)
        } else if let found = try await directoryChild(named: name, in: view) {
            return found
        }
        switch view {
        case .tags, .cameras:
            let candidate: View = view == .tags ? .tag(name) : .camera(name)
            return try await videoItems(in: candidate).isEmpty ? nil : directoryItem(name, candidate)
        case .byID:
            // A video uploaded since the last listing: look it up by id.
            let id = (name as NSString).deletingPathExtension
            guard !id.isEmpty, let video = try await list(VideoFilter(videoNo: id)).videos.first else { return nil }
            remember([video])
            let item = videoItem(video, view: .byID)
            return item.name == name ? item : nil
        default:
            return nil
        }
    }

    private func directoryChild(named name: String, in view: View) async throws -> DirectoryItem? {
        switch view {
        case .tags, .cameras, .years, .year, .month:
            let contents = try await derivedContents(of: view)
            return contents.index[name].map { contents.items[$0] }
        default:
            return try await contents(of: view).first { $0.name == name }
        }
    }

    /// The full listing (the `all/` query), which also supplies names, tags, cameras and dates.
    func everything() async throws -> [Video] {
        try await fullListing().videos
    }

    func fullListing() async throws -> Listing {
        let listing = try await list(VideoFilter())
        rememberFullListing(listing)
        return listing
    }

    /// The videos of a leaf view, named, with their lookup answers.
    func videoItems(in view: View) async throws -> [DirectoryItem] {
        guard let filter = view.filter(calendar: options.calendar) else { return [] }
        let full = try await fullListing()
        let listing: Listing
        let filtered: Bool
        switch view {
        case .all, .byID, .day:
            // A day's query would be `datetime_taken` at or after its start, the only bound the
            // API has: every video captured since that day, page after page, for each day folder
            // opened (a file manager opens them all). The day is taken from the full listing
            // instead (below), which costs no request.
            listing = full
            filtered = false
        default:
            listing = try await list(filter)
            filtered = true
        }
        let listings = [full.revision, listing.revision]
        if let cached = state.withLock({ s in s.contents[view].flatMap { $0.key == ContentsKey(listings: listings, naming: s.namingGeneration) ? $0 : nil } }) {
            return cached.items
        }
        // Once per fetched listing, not per lookup: it walks every video of the view, and a walk
        // of the folder looks each of its files up.
        // Only a filtered answer newer than the full listing knows better than it: an older one
        // (a folder made again because the full listing changed) would put back records the
        // full listing has since replaced.
        if filtered, listing.fetchedAt >= full.fetchedAt { remember(listing.videos) }
        let key = ContentsKey(listings: listings, naming: state.withLock { $0.namingGeneration })
        var videos = listing.videos
        if case .day(let y, let m, let d) = view, let range = DayRange(year: y, month: m, day: d, calendar: options.calendar) {
            // Videos captured that day, else uploaded that day, as their mtime says and as the
            // folder tree is made. For a parsed video with a capture time, this is what the API's
            // `datetime_taken` filter selects, with the day's end applied.
            videos = videos.filter { v in v.displayTimeMilliseconds.map(range.contains) ?? false }
        }
        let items = videoItems(videos, view: view)
        var index: [String: Int] = [:]
        index.reserveCapacity(items.count)
        for (i, item) in items.enumerated() { index[item.name] = i }
        state.withLock { $0.contents[view] = DirectoryContents(key: key, items: items, index: index) }
        noteShown(items.map(\.name), in: view)
        return items
    }

    /// The items of `videos` in `view`, with the names and inodes looked up under one lock each.
    func videoItems(_ videos: [Video], view: View) -> [DirectoryItem] {
        let inodes = inodes.inodes(forVideos: videos.map(\.videoNo))
        let names = view.namesByID ? nil : state.withLock { $0.videos.names(of: videos) }
        return videos.indices.map { i in
            let video = videos[i]
            let name = names.map { $0[i] ?? FileNaming.names(for: [video])[video.videoNo]! } ?? FileNaming.idName(video)
            return DirectoryItem(name: name, inode: inodes[i], kind: .regular,
                                 entry: Entry(attributes: attributes(of: video, inode: inodes[i]), entryTimeout: options.ttlSeconds, attributeTimeout: options.ttlSeconds))
        }
    }

    func videoItem(_ video: Video, view: View) -> DirectoryItem {
        let inode = inodes.inode(forVideo: video.videoNo)
        let name = view.namesByID
            ? FileNaming.idName(video)
            : state.withLock { $0.videos.name(of: video.videoNo) } ?? FileNaming.names(for: [video])[video.videoNo]!
        let attrs = attributes(of: video, inode: inode)
        return DirectoryItem(name: name, inode: inode, kind: .regular,
                             entry: Entry(attributes: attrs, entryTimeout: options.ttlSeconds, attributeTimeout: options.ttlSeconds))
    }

    func directoryItem(_ name: String, _ view: View) -> DirectoryItem {
        let inode = inodes.inode(for: view)
        return DirectoryItem(name: name, inode: inode, kind: .directory,
                             entry: Entry(attributes: directoryAttributes(inode), entryTimeout: options.ttlSeconds, attributeTimeout: options.ttlSeconds))
    }

    /// Directories named after values (tags, cameras), made safe as names. Two values that become
    /// the same name keep the first.
    func namedDirectories(_ values: [String], _ make: (String) -> View) -> [DirectoryItem] {
        var seen = Set<String>()
        return values.compactMap { value in
            let name = FileNaming.directoryName(value)
            guard !name.isEmpty, seen.insert(name).inserted else { return nil }
            return directoryItem(name, make(value))
        }
    }

    func parentView(of view: View) -> View {
        switch view {
        case .root, .all, .statuses, .tags, .cameras, .years, .byID, .covers: .root
        case .status: .statuses
        case .tag: .tags
        case .camera: .cameras
        case .year: .years
        case .month(let y, _): .year(y)
        case .day(let y, let m, _): .month(y, m)
        }
    }

    // MARK: Names and the videos behind them

    /// A new full listing: names are given over the whole library, so a video has the same name
    /// in every view.
    func rememberFullListing(_ listing: Listing) {
        state.withLock { s in
            guard s.fullListingRevision != listing.revision else { return }
            s.fullListingRevision = listing.revision
            // The full listing is authoritative: what it lacks is gone.
            s.videos.replaceListing(listing.videos)
            s.namingGeneration += 1
        }
    }

    /// Videos seen in a filtered view; new ones are named together with the rest.
    func remember(_ videos: [Video]) {
        state.withLock { s in
            if s.videos.note(videos) { s.namingGeneration += 1 }
        }
    }

    /// Records the names a view showed; names that were shown before and are gone now are dropped
    /// from the kernel's cache, so a video deleted elsewhere disappears at once.
    func noteShown(_ names: [String], in view: View) {
        let now = Set(names)
        let gone = state.withLock { s -> Set<String> in
            let before = s.shown[view] ?? []
            s.shown[view] = now
            return before.subtracting(now)
        }
        guard !gone.isEmpty, let session else { return }
        let parent = inodes.inode(for: view)
        for name in gone { session.invalidateEntry(parent: parent, name: name) }
    }

    // MARK: Attributes

    func directoryAttributes(_ inode: Inode) -> FileAttributes {
        FileAttributes(inode: inode, kind: .directory, permissions: options.directoryMode, size: 4096, linkCount: 2,
                       uid: options.uid, gid: options.gid, modificationTime: mountTime)
    }

    func attributes(of video: Video, inode: Inode) -> FileAttributes {
        let uploaded = video.createTime.map(Timestamp.init(milliseconds:)) ?? mountTime
        let shown = video.displayTimeMilliseconds.map(Timestamp.init(milliseconds:)) ?? mountTime
        return FileAttributes(inode: inode, kind: .regular, permissions: options.fileMode, size: UInt64(max(0, video.size ?? 0)),
                              linkCount: 1, uid: options.uid, gid: options.gid, accessTime: shown,
                              modificationTime: shown, changeTime: uploaded)
    }
}
