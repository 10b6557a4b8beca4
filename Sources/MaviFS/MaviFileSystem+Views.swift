import FUSE
import Foundation
import MaviAPI
import MaviClient
import MaviLibrary

extension MaviFileSystem {
    /// What a directory holds, from cached listings when they are fresh.
    func contents(of view: View) async throws -> Folder {
        switch view {
        case .root:
            let covers = self.covers == nil ? [] : [directoryItem(Self.coversDirectoryName, .covers)]
            let search = self.search == nil ? [] : [directoryItem(Self.searchDirectoryName, .searches(.words))]
            return Folder(items: covers + View.topLevel.map { directoryItem($0.0, $0.1) } + search)
        case .covers:
            return try await coverItems().folder
        case .statuses:
            return Folder(items: VideoStatus.filterValues.map { directoryItem($0, .status($0)) })
        case .tags, .cameras, .years, .year, .month:
            return try await derivedContents(of: view).folder
        case .all, .status, .tag, .camera, .day, .byID:
            return try await videoItems(in: view)
        case .sharedThumbnails(let v):
            return v.listsVideos ? sharedThumbnailFolders(of: v) : .empty
        case .sharedThumbnailSize(let v, let size):
            return v.listsVideos ? try await sharedThumbnailItems(of: v, size: size) : .empty
        case .searches(let kind):
            return searchesFolder(kind)
        case .searchHits(let key):
            return try await searchFolder(key).folder
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
        let contents = DirectoryContents(key: key, folder: Folder(items: derivedItems(of: view, from: full)))
        state.withLock { $0.contents[view] = contents }
        return contents
    }

    private func derivedItems(of view: View, from listing: Listing) -> [DirectoryItem] {
        let calendar = options.calendar
        let videos = listing.videos
        let shown = listing.shownPositions ?? Array(videos.indices)
        let days = { shown.compactMap { videos.displayTime(at: $0).map { calendarDay($0, calendar) } } }
        switch view {
        case .tags:
            return namedDirectories(Set(shown.flatMap { videos.tags(at: $0) }).sorted(), View.tag)
        case .cameras:
            return namedDirectories(Set(shown.compactMap { videos.cameraModel(at: $0) }.filter { !$0.isEmpty }).sorted(), View.camera)
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
            let folder = try await videoItems(in: view)
            if let item = folder.item(named: name) { return item.role == .subtitle ? try await lookedUp(sidecar: item) : item }
            if name == Self.sharedThumbnailsDirectoryName { return directoryItem(name, .sharedThumbnails(view)) }
        } else if case .sharedThumbnailSize(let v, let size) = view {
            return try await sharedThumbnailChild(named: name, in: v, size: size)
        } else if view == .covers {
            return try await coverChild(named: name)
        } else if case .searches(let kind) = view {
            return try await searchChild(named: name, kind: kind)
        } else if case .searchHits(let key) = view {
            guard let item = try await searchFolder(key).folder.item(named: name) else { return nil }
            return item.role == .subtitle ? try await lookedUp(sidecar: item) : item
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
            guard !id.isEmpty else { return nil }
            let found = try await list(VideoFilter(videoNo: id))
            // Not one deleted through the mount since (the answer may be older than the delete).
            guard let position = found.videos.indices.first(where: found.isShown) else { return nil }
            let video = found.videos[position]
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
            return try await derivedContents(of: view).folder.item(named: name)
        default:
            return try await contents(of: view).item(named: name)
        }
    }

    /// The full listing (the `all/` query), which also supplies names, tags, cameras and dates.
    func everything() async throws -> VideoTable {
        try await fullListing().videos
    }

    func fullListing() async throws -> Listing {
        let listing = try await list(VideoFilter())
        rememberFullListing(listing)
        return listing
    }

    /// The videos of a leaf view, named, with their lookup answers.
    func videoItems(in view: View) async throws -> Folder {
        guard let filter = view.filter(calendar: options.calendar) else { return .empty }
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
            return cached.folder
        }
        // Once per fetched listing, not per lookup: it walks every video of the view, and a walk
        // of the folder looks each of its files up.
        // Only a filtered answer newer than the full listing knows better than it: an older one
        // (a folder made again because the full listing changed) would put back records the
        // full listing has since replaced.
        if filtered, listing.fetchedAt >= full.fetchedAt {
            remember(listing.videos.indices.lazy.filter(listing.isShown).map { listing.videos[$0] })
        }
        let key = ContentsKey(listings: listings, naming: state.withLock { $0.namingGeneration })
        let videos = listing.videos
        var positions = listing.shownPositions
        if case .day(let y, let m, let d) = view, let range = DayRange(year: y, month: m, day: d, calendar: options.calendar) {
            // Videos captured that day, else uploaded that day, as their mtime says and as the
            // folder tree is made. For a parsed video with a capture time, this is what the API's
            // `datetime_taken` filter selects, with the day's end applied.
            positions = (positions ?? Array(videos.indices)).filter { videos.displayTime(at: $0).map(range.contains) ?? false }
        }
        let folder = videoFolder(videos, at: positions, view: view)
        let before = state.withLock { s -> Folder? in
            defer { s.contents[view] = DirectoryContents(key: key, folder: folder) }
            return s.contents[view]?.folder
        }
        if let before { forgetNames(before.namesGone(from: folder), in: view) }
        return folder
    }

    /// The folder of the videos of `table` at `positions` (all of them when `nil`) in `view`,
    /// with the names and inodes looked up under one lock each, and no record made of a video.
    func videoFolder(_ table: VideoTable, at positions: [Int]?, view: View) -> Folder {
        let count = positions?.count ?? table.count
        let position = { (k: Int) in positions?[k] ?? k }
        // Numbers are made one at a time and let go: a million of them at once is 60 MiB.
        let numbers = (0..<count).lazy.map { table.videoNo(at: position($0)) }
        let inodes = inodes.inodes(forVideos: numbers)
        let parsed = { (folder: Folder) in
            self.addingSubtitles(to: folder, positions: (0..<count).lazy.filter { table.status(at: position($0)) == .parsed })
        }
        if view.namesByID {
            return parsed(Folder(names: PackedStrings((0..<count).lazy.map { FileNaming.idName(table[position($0)]) }), inodes: inodes,
                                 table: table, rows: positions))
        }
        let names = state.withLock { s -> PackedStrings in
            // The full listing's folder takes the names as they are.
            if positions == nil, let all = s.videos.listingNames(of: table) { return all }
            // A video named nowhere yet (a listing newer than the names) is named on its own.
            var names = PackedStrings()
            for k in 0..<count {
                let number = numbers[k]
                names.append(s.videos.name(of: number) ?? FileNaming.names(for: [table[position(k)]])[number]!)
            }
            names.fit()
            return names
        }
        return parsed(Folder(names: names, inodes: inodes, table: table, rows: positions))
    }

    func videoItem(_ video: Video, view: View) -> DirectoryItem {
        let inode = inodes.inode(forVideo: video.videoNo)
        let name = view.namesByID
            ? FileNaming.idName(video)
            : state.withLock { $0.videos.name(of: video.videoNo) } ?? FileNaming.names(for: [video])[video.videoNo]!
        return videoItem(video, name: name, inode: inode)
    }

    private func videoItem(_ video: Video, name: String, inode: Inode) -> DirectoryItem {
        DirectoryItem(name: name, inode: inode, role: .video, size: UInt64(max(0, video.size ?? 0)),
                      modified: video.displayTimeMilliseconds, changed: video.createTime)
    }

    func directoryItem(_ name: String, _ view: View) -> DirectoryItem {
        DirectoryItem(name: name, inode: inodes.inode(for: view), role: .directory)
    }

    /// What the kernel is told of an item: by `lookup`, and by `readdirplus` for each name.
    func entry(of item: DirectoryItem) -> Entry {
        let ttl = options.ttlSeconds
        switch item.role {
        case .directory:
            return Entry(attributes: directoryAttributes(item.inode), entryTimeout: ttl, attributeTimeout: ttl)
        case .video:
            let shown = item.modified ?? mountTime
            return Entry(attributes: FileAttributes(
                inode: item.inode, kind: .regular, permissions: options.fileMode, size: item.size, linkCount: 1, uid: options.uid,
                gid: options.gid, accessTime: shown, modificationTime: shown, changeTime: item.changed ?? mountTime),
                         entryTimeout: ttl, attributeTimeout: ttl)
        case .subtitle:
            return subtitleEntry(item)
        case .generated:
            return Entry(attributes: FileAttributes(
                inode: item.inode, kind: .regular, permissions: 0o444 & ~options.umask, size: item.size, linkCount: 1, uid: options.uid,
                gid: options.gid, accessTime: item.modified ?? mountTime, modificationTime: item.modified ?? mountTime,
                changeTime: item.modified ?? mountTime), entryTimeout: ttl, attributeTimeout: ttl)
        case .cover(let sizeKnown):
            let uploaded = item.changed ?? mountTime
            return Entry(attributes: FileAttributes(
                inode: item.inode, kind: .regular, permissions: 0o444 & ~options.umask, size: item.size, linkCount: 1, uid: options.uid,
                gid: options.gid, accessTime: uploaded, modificationTime: uploaded, changeTime: uploaded),
                         entryTimeout: ttl, attributeTimeout: sizeKnown ? ttl : 0)
        }
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
        case .root, .all, .statuses, .tags, .cameras, .years, .byID, .covers, .searches(.words): .root
        case .searches(.phrase): .searches(.words)
        case .searchHits(let key): .searches(key.kind)
        case .status: .statuses
        case .tag: .tags
        case .camera: .cameras
        case .year: .years
        case .month(let y, _): .year(y)
        case .day(let y, let m, _): .month(y, m)
        case .sharedThumbnails(let v): v
        case .sharedThumbnailSize(let v, _): .sharedThumbnails(v)
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
            s.videos.replaceListing(listing.videos, hidden: listing.hidden)
            s.namingGeneration += 1
        }
    }

    /// Videos seen in a filtered view; new ones are named together with the rest.
    func remember(_ videos: some Sequence<Video>) {
        state.withLock { s in
            if s.videos.note(videos) { s.namingGeneration += 1 }
        }
    }

    /// Names a view showed before and no longer shows are dropped from the kernel's cache, so a
    /// video deleted elsewhere disappears at once.
    func forgetNames(_ gone: [String], in view: View) {
        thumbnailsGone(gone, in: view)
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
        entry(of: videoItem(video, name: "", inode: inode)).attributes
    }
}
