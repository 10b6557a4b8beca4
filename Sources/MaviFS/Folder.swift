import FUSE
import MaviLibrary

/// What a directory shows, in order, found by name; items deleted since it was made stay in
/// place (every other item keeps its position, and so its readdir offset) and are skipped.
///
/// A folder of videos is kept packed: its names in ``PackedStrings``, an inode each, and the rows
/// of the listing it was made from for sizes and times; a ``DirectoryItem`` is made when one is
/// asked for. The folder of the full listing shares its names with the mount's own list of names,
/// so `all/` of a million videos costs 8 bytes a video more. Small folders (tags, dates, covers)
/// keep their items as they are.
struct Folder: Sendable {
    private enum Entries: Sendable {
        case items([DirectoryItem], index: [String: Int])
        case videos(names: PackedStrings, inodes: [Inode], table: VideoTable, rows: [Int]?)
    }

    private let entries: Entries
    /// Positions deleted since the folder was made.
    private var removed = Set<Int>()
    /// Subtitle sidecars of a folder of videos, listed after the videos.
    var subtitles = SubtitleEntries()
    /// Whether a listing shows the sidecars, or only a lookup by name finds them.
    var sidecarsListed = true

    init(items: [DirectoryItem]) {
        var index: [String: Int] = [:]
        index.reserveCapacity(items.count)
        // A name given twice is found at its last place, as a directory shows it last.
        for (position, item) in items.enumerated() { index[item.name] = position }
        entries = .items(items, index: index)
    }

    /// The videos of `table` at `rows` (all of them in order when `nil`), the k-th named
    /// `names[k]` with inode `inodes[k]`.
    init(names: PackedStrings, inodes: [Inode], table: VideoTable, rows: [Int]?) {
        precondition(names.count == inodes.count && inodes.count == (rows?.count ?? table.count), "one name and inode per video")
        entries = .videos(names: names, inodes: inodes, table: table, rows: rows)
    }

    static let empty = Folder(items: [])

    /// Items, deleted ones included (see ``isRemoved(_:)``).
    var count: Int { baseCount + subtitles.count }

    /// The items a listing goes through: the sidecars are last, and left out unless listed.
    var listedCount: Int { sidecarsListed ? count : baseCount }

    /// The positions of the items before the sidecars: the videos (and, in a search folder, its
    /// playlist).
    var itemPositions: Range<Int> { 0..<baseCount }

    /// Items before the sidecars.
    private var baseCount: Int {
        switch entries {
        case .items(let items, _): items.count
        case .videos(_, let inodes, _, _): inodes.count
        }
    }

    var isEmpty: Bool { count == 0 }

    subscript(position: Int) -> DirectoryItem {
        var item: DirectoryItem
        if position >= baseCount {
            let (video, kind) = subtitles.entry(position - baseCount)
            let videoItem = self[video]
            item = DirectoryItem(
                name: SubtitleEntries.name(ofVideoNamed: videoItem.name, kind)!, inode: videoItem.inode + InodeTable.sidecarOffset(kind),
                role: .subtitle, modified: videoItem.modifiedMillisecondsIfKnown, changed: videoItem.changedMillisecondsIfKnown)
            item.removed = videoItem.removed
            return item
        }
        switch entries {
        case .items(let items, _):
            item = items[position]
        case .videos(let names, let inodes, let table, let rows):
            let row = rows?[position] ?? position
            item = DirectoryItem(
                name: names[position], inode: inodes[position], role: .video, size: UInt64(max(0, table.size(at: row) ?? 0)),
                modified: table.displayTime(at: row), changed: table.createTime(at: row))
        }
        item.removed = removed.contains(position)
        return item
    }

    /// The inode and kind of the sidecar at `position`, nil for any other item: found without
    /// making the item.
    func sidecar(at position: Int) -> (inode: Inode, kind: SubtitleKind)? {
        guard position >= baseCount else { return nil }
        let (video, kind) = subtitles.entry(position - baseCount)
        return (inode(at: video) + InodeTable.sidecarOffset(kind), kind)
    }

    func isRemoved(_ position: Int) -> Bool {
        position >= baseCount ? removed.contains(subtitles.entry(position - baseCount).video) : removed.contains(position)
    }

    /// The item called `name`, unless deleted.
    func item(named name: String) -> DirectoryItem? {
        position(named: name).map { self[$0] }
    }

    /// Where the item called `name` is, unless deleted.
    func position(named name: String) -> Int? {
        var position: Int?
        switch entries {
        case .items(_, let index): position = index[name]
        case .videos(let names, _, _, _): position = names.firstPosition(of: name)
        }
        if position == nil, !subtitles.isEmpty {
            position = subtitles.position(named: name, videoNamed: { self.basePosition(named: $0) }).map { baseCount + $0 }
        }
        guard let position, !isRemoved(position) else { return nil }
        return position
    }

    private func basePosition(named name: String) -> Int? {
        switch entries {
        case .items(_, let index): index[name]
        case .videos(let names, _, _, _): names.firstPosition(of: name)
        }
    }

    func inode(at position: Int) -> Inode {
        if let sidecar = sidecar(at: position) { return sidecar.inode }
        return switch entries {
        case .items(let items, _): items[position].inode
        case .videos(_, let inodes, _, _): inodes[position]
        }
    }

    /// How many of the items are videos: all of them in a folder of videos, not a search
    /// folder's playlist.
    var videoCount: Int {
        switch entries {
        case .items(let items, _): items.lazy.filter { $0.role == .video }.count
        case .videos(_, let inodes, _, _): inodes.count
        }
    }

    /// Whether the item at `position` is a video, without making the item.
    func isVideo(at position: Int) -> Bool {
        switch entries {
        case .items(let items, _): position < items.count && items[position].role == .video
        case .videos(_, let inodes, _, _): position < inodes.count
        }
    }

    /// The name at `position`, without making the whole item.
    func name(at position: Int) -> String {
        if position >= baseCount { return self[position].name }
        return switch entries {
        case .items(let items, _): items[position].name
        case .videos(let names, _, _, _): names[position]
        }
    }

    /// The name of the sidecar of `kind` of the video with inode `video`, if this folder holds
    /// it: the video found by its name `videoName` in a folder of videos, else by a walk of the
    /// items.
    func name(ofSidecar kind: SubtitleKind, ofVideo video: Inode, named videoName: String?) -> String? {
        guard !subtitles.isEmpty else { return nil }
        let position: Int? = switch entries {
        case .items(let items, _): items.firstIndex { $0.inode == video }
        case .videos(let names, let inodes, _, _): videoName.flatMap(names.firstPosition(of:)).flatMap { inodes[$0] == video ? $0 : nil }
        }
        guard let position, !removed.contains(position), let index = subtitles.index(video: position, kind) else { return nil }
        return name(at: baseCount + index)
    }

    mutating func remove(at position: Int) {
        // A sidecar goes with its video.
        removed.insert(position >= baseCount ? subtitles.entry(position - baseCount).video : position)
    }

    /// The names this folder shows that `newer` does not.
    func namesGone(from newer: Folder) -> [String] {
        (0..<count).compactMap { position in
            guard !isRemoved(position) else { return nil }
            let name = name(at: position)
            return newer.item(named: name) == nil ? name : nil
        }
    }
}

/// The subtitle sidecars of a folder's videos, 4 bytes each: the position of the video and the
/// kind. A sidecar's name is its video's without the extension, then `.srt` or `.captions.srt`,
/// as players look for it; it is found by name through its video's name.
struct SubtitleEntries: Sendable {
    /// `video position << 1 | kind`, increasing.
    private var entries: [UInt32] = []
    /// The extensions of the videos with sidecars, to go from a sidecar's name to its video's.
    private var extensions: [String] = []

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    /// Adds the sidecar of `kind` of the video at `video`, named after `videoName`; in increasing
    /// positions. A name that would not fit in 255 bytes gets no sidecar (no player would find it).
    mutating func add(video: Int, videoName: String, _ kind: SubtitleKind) {
        guard Self.name(ofVideoNamed: videoName, kind) != nil, let ext = Self.splitExtension(videoName)?.ext else { return }
        entries.append(Self.key(video: video, kind))
        if !extensions.contains(where: { $0 == ext }) { extensions.append(String(ext)) }
    }

    /// Where the sidecar of `kind` of the video at `video` is among the sidecars.
    func index(video: Int, _ kind: SubtitleKind) -> Int? {
        Self.search(entries, Self.key(video: video, kind))
    }

    private static func key(video: Int, _ kind: SubtitleKind) -> UInt32 { UInt32(video) << 1 | (kind == .speech ? 0 : 1) }

    func entry(_ index: Int) -> (video: Int, kind: SubtitleKind) {
        (Int(entries[index] >> 1), entries[index] & 1 == 0 ? .speech : .captions)
    }

    /// Where the sidecar called `name` is among the sidecars, given how to find a video by name.
    func position(named name: String, videoNamed: (String) -> Int?) -> Int? {
        for kind in SubtitleKind.allCases where name.hasSuffix(kind.fileSuffix) {
            let base = String(name.dropLast(kind.fileSuffix.count))
            for ext in extensions {
                guard let video = videoNamed(base + "." + ext) else { continue }
                if let index = index(video: video, kind) { return index }
            }
        }
        return nil
    }

    /// `NAME.srt` or `NAME.captions.srt` for a video called `NAME.ext`; nil when it has no
    /// extension or the name would be longer than 255 bytes.
    static func name(ofVideoNamed videoName: String, _ kind: SubtitleKind) -> String? {
        guard let (base, _) = splitExtension(videoName) else { return nil }
        let name = String(base) + kind.fileSuffix
        return name.utf8.count <= FileNaming.maxNameBytes ? name : nil
    }

    /// A name's base and extension, as parts of it: no string is made.
    static func splitExtension(_ name: String) -> (base: Substring, ext: Substring)? {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex, name.index(after: dot) != name.endIndex else { return nil }
        return (name[..<dot], name[name.index(after: dot)...])
    }

    private static func search(_ sorted: [UInt32], _ key: UInt32) -> Int? {
        var low = 0, high = sorted.count
        while low < high {
            let mid = (low + high) / 2
            if sorted[mid] < key { low = mid + 1 } else { high = mid }
        }
        return low < sorted.count && sorted[low] == key ? low : nil
    }
}
