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
    var count: Int {
        switch entries {
        case .items(let items, _): items.count
        case .videos(_, let inodes, _, _): inodes.count
        }
    }

    var isEmpty: Bool { count == 0 }

    subscript(position: Int) -> DirectoryItem {
        var item: DirectoryItem
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

    func isRemoved(_ position: Int) -> Bool { removed.contains(position) }

    /// The item called `name`, unless deleted.
    func item(named name: String) -> DirectoryItem? {
        position(named: name).map { self[$0] }
    }

    /// Where the item called `name` is, unless deleted.
    func position(named name: String) -> Int? {
        let position: Int?
        switch entries {
        case .items(_, let index): position = index[name]
        case .videos(let names, _, _, _): position = names.firstPosition(of: name)
        }
        guard let position, !removed.contains(position) else { return nil }
        return position
    }

    func inode(at position: Int) -> Inode {
        switch entries {
        case .items(let items, _): items[position].inode
        case .videos(_, let inodes, _, _): inodes[position]
        }
    }

    /// The name at `position`, without making the whole item.
    func name(at position: Int) -> String {
        switch entries {
        case .items(let items, _): items[position].name
        case .videos(let names, _, _, _): names[position]
        }
    }

    mutating func remove(at position: Int) {
        removed.insert(position)
    }

    /// The names this folder shows that `newer` does not.
    func namesGone(from newer: Folder) -> [String] {
        (0..<count).compactMap { position in
            guard !removed.contains(position) else { return nil }
            let name = name(at: position)
            return newer.item(named: name) == nil ? name : nil
        }
    }
}
