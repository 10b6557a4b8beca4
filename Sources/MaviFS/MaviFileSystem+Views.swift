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
            return View.topLevel.map { directoryItem($0.0, $0.1) }
        case .statuses:
            return VideoStatus.filterValues.map { directoryItem($0, .status($0)) }
        case .tags:
            let tags = Set(try await everything().flatMap(\.tags))
            return namedDirectories(tags.sorted(), View.tag)
        case .cameras:
            let cameras = Set(try await everything().compactMap(\.cameraModel).filter { !$0.isEmpty })
            return namedDirectories(cameras.sorted(), View.camera)
        case .years:
            let years = Set(try await everything().compactMap { $0.displayTimeMilliseconds.map { calendarDay($0, options.calendar).0 } })
            return years.sorted().map { directoryItem(String(format: "%04d", $0), .year($0)) }
        case .year(let y):
            let months = Set(try await everything().compactMap { v -> Int? in
                guard let t = v.displayTimeMilliseconds else { return nil }
                let d = calendarDay(t, options.calendar)
                return d.0 == y ? d.1 : nil
            })
            return months.sorted().map { directoryItem(String(format: "%02d", $0), .month(y, $0)) }
        case .month(let y, let m):
            let days = Set(try await everything().compactMap { v -> Int? in
                guard let t = v.displayTimeMilliseconds else { return nil }
                let d = calendarDay(t, options.calendar)
                return d.0 == y && d.1 == m ? d.2 : nil
            })
            return days.sorted().map { directoryItem(String(format: "%02d", $0), .day(y, m, $0)) }
        case .all, .status, .tag, .camera, .day, .byID:
            return try await videoItems(in: view)
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
        } else if let found = try await contents(of: view).first(where: { $0.name == name }) {
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
        let listing = view == .all || view == .byID ? full : try await list(filter)
        if view != .all && view != .byID { remember(listing.videos) }
        let key = ContentsKey(listings: [full.fetchedAt, listing.fetchedAt], naming: state.withLock { $0.namingGeneration })
        if let cached = state.withLock({ $0.contents[view] }), cached.key == key {
            return cached.items
        }
        var videos = listing.videos
        if case .day(let y, let m, let d) = view, let range = DayRange(year: y, month: m, day: d, calendar: options.calendar) {
            // The API filter is a lower bound on capture time; the day's end is applied here, and
            // videos without a capture time are placed by upload time, as their mtime says.
            videos = videos.filter { v in v.datetimeTaken.map(range.contains) ?? false }
            videos += full.videos.filter { v in v.datetimeTaken == nil && (v.createTime.map(range.contains) ?? false) }
        }
        let items = videos.map { videoItem($0, view: view) }
        var index: [String: Int] = [:]
        for (i, item) in items.enumerated() { index[item.name] = i }
        state.withLock { $0.contents[view] = DirectoryContents(key: key, items: items, index: index) }
        noteShown(items.map(\.name), in: view)
        return items
    }

    func videoItem(_ video: Video, view: View) -> DirectoryItem {
        let inode = inodes.inode(forVideo: video.videoNo)
        let name = view.namesByID
            ? FileNaming.idName(video)
            : state.withLock { $0.names[video.videoNo] } ?? FileNaming.names(for: [video])[video.videoNo]!
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
        case .root, .all, .statuses, .tags, .cameras, .years, .byID: .root
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
            guard s.fullListingFetchedAt != listing.fetchedAt else { return }
            s.fullListingFetchedAt = listing.fetchedAt
            var byNo: [String: Video] = [:]
            for v in listing.videos { byNo[v.videoNo] = v }
            // The full listing is authoritative: what it lacks is gone.
            s.videos = byNo
            s.names = FileNaming.names(for: listing.videos)
            s.namingGeneration += 1
        }
    }

    /// Videos seen in a filtered view; new ones are named together with the rest.
    func remember(_ videos: [Video]) {
        state.withLock { s in
            var added = false
            for v in videos {
                if s.videos[v.videoNo] == nil { added = true }
                s.videos[v.videoNo] = v
            }
            if added {
                s.names = FileNaming.names(for: Array(s.videos.values))
                s.namingGeneration += 1
            }
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
