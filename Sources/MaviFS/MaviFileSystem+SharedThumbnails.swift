import FUSE
import Foundation
import Glibc
import MaviAPI
import Synchronization
import Thumbnails

/// `.sh_thumbnails/normal/` and `large/` in every folder of videos: the standard's shared
/// thumbnail repository, which Thunar reads, made on the fly from the covers. A thumbnail is
/// named by the MD5 of its video's file name and records that name as a relative `Thumb::URI`.
/// The folder is found by name and never listed, so `ls -a`, `find` and file counts see only
/// videos.
extension MaviFileSystem {
    static let sharedThumbnailsDirectoryName = ".sh_thumbnails"
    /// Folders whose index of names by MD5 is kept; past it they are dropped and made again.
    static let sharedThumbnailIndexesKept = 8

    /// `normal/` and `large/`.
    func sharedThumbnailFolders(of view: View) -> Folder {
        Folder(items: ThumbnailSize.allCases.map { directoryItem($0.folderName, .sharedThumbnailSize(view, $0)) })
    }

    /// The thumbnails of a folder's videos at one size, kept while the folder is the same. A
    /// thumbnail not made yet is listed with size 0 and no attribute caching, as a cover is.
    func sharedThumbnailItems(of view: View, size: ThumbnailSize) async throws -> Folder {
        let videos = try await videoItems(in: view)
        let shared = View.sharedThumbnailSize(view, size)
        let key = state.withLock { $0.contents[view]?.key }
        if let key, let cached = state.withLock({ $0.contents[shared] }), cached.key == key { return cached.folder }
        var items: [DirectoryItem] = []
        for position in videos.itemPositions where !videos.isRemoved(position) {
            let item = videos[position]
            guard case .video(let no) = inodes.node(item.inode), let video = state.withLock({ $0.videos[no] }), video.coverURL != nil else {
                continue
            }
            let file = InodeTable.SharedThumbnail(videoNo: no, size: size, namedByID: view.namesByID)
            let made = sharedThumbnails.withLock { $0.bytes(file, name: item.name)?.count }
            items.append(DirectoryItem(
                name: FileURI.sharedThumbnailName(forFileName: item.name), inode: inodes.inode(forSharedThumbnail: file),
                role: .cover(sizeKnown: made != nil), size: UInt64(made ?? 0), changed: video.createTime))
        }
        let folder = Folder(items: items)
        if let key { state.withLock { $0.contents[shared] = DirectoryContents(key: key, folder: folder) } }
        return folder
    }

    /// A thumbnail looked up by name: made now, so its size is right from the start. Found
    /// through the folder's index of names by MD5, so a file manager looking up the thumbnails of
    /// a folder one by one makes neither a listing of them nor an inode per video.
    func sharedThumbnailChild(named name: String, in view: View, size: ThumbnailSize) async throws -> DirectoryItem? {
        guard let digest = SharedThumbnailIndex.Digest(thumbnailName: name) else { return nil }
        _ = try await videoItems(in: view)
        // The folder and its key as one: an index is of the folder it was made from.
        guard let contents = state.withLock({ $0.contents[view] }) else { return nil }
        let videos = contents.folder
        let index = sharedThumbnailIndexes.withLock { $0[view].flatMap { $0.key == contents.key ? $0.index : nil } } ?? {
            let index = SharedThumbnailIndex(videos)
            sharedThumbnailIndexes.withLock { indexes in
                // A file manager shows a few folders at a time.
                if indexes.count >= Self.sharedThumbnailIndexesKept { indexes.removeAll() }
                indexes[view] = (contents.key, index)
            }
            return index
        }()
        guard let position = index.position(of: digest), !videos.isRemoved(position) else { return nil }
        let videoItem = videos[position]
        guard case .video(let no) = inodes.node(videoItem.inode), let video = state.withLock({ $0.videos[no] }), video.coverURL != nil else {
            return nil
        }
        let file = InodeTable.SharedThumbnail(videoNo: no, size: size, namedByID: view.namesByID)
        let bytes = try await sharedThumbnailBytes(file)
        return DirectoryItem(
            name: name, inode: inodes.inode(forSharedThumbnail: file), role: .cover(sizeKnown: true), size: UInt64(bytes.count),
            changed: video.createTime)
    }

    func sharedThumbnailAttributes(_ file: InodeTable.SharedThumbnail, inode: Inode) async throws -> FileAttributes {
        guard let video = state.withLock({ $0.videos[file.videoNo] }) else { throw FUSEError.notFound }
        let size = try await sharedThumbnailBytes(file).count
        return entry(of: DirectoryItem(name: "", inode: inode, role: .cover(sizeKnown: true), size: UInt64(size), changed: video.createTime))
            .attributes
    }

    func readSharedThumbnail(_ file: InodeTable.SharedThumbnail, offset: UInt64, size: Int) async throws -> ReadReply {
        let bytes = try await sharedThumbnailBytes(file)
        guard offset < UInt64(bytes.count) else { return .endOfFile }
        let start = Int(offset)
        return .bytes(Array(bytes[start..<min(bytes.count, start + size)]))
    }

    /// The PNG of one thumbnail, made from the cover (fetched once, kept by the cover store).
    func sharedThumbnailBytes(_ file: InodeTable.SharedThumbnail) async throws -> [UInt8] {
        guard covers != nil, let video = state.withLock({ $0.videos[file.videoNo] }) else { throw FUSEError.notFound }
        let name = file.namedByID ? FileNaming.idName(video) : state.withLock { $0.videos.name(of: video.videoNo) } ?? FileNaming.idName(video)
        if let bytes = sharedThumbnails.withLock({ $0.bytes(file, name: name) }) { return bytes }
        let cover = try await coverFileByDeadline(video)
        do {
            let facts = ThumbnailFacts(
                uri: try FileURI.relativeURI(forFileName: name), mtime: shownMTime(of: video), size: UInt64(max(0, video.size ?? 0)),
                mimeType: VideoTypes.mimeType(ofExtension: FileNaming.fileExtension(video)), movieLength: video.duration.map(Int.init))
            let bytes = try ThumbnailImage.pngBytes(from: cover, size: file.size, facts: facts)
            sharedThumbnails.withLock { $0.keep(bytes, for: file, name: name) }
            return bytes
        } catch {
            logger.warning("cannot make the shared thumbnail of \(video.videoNo): \(error)")
            throw FUSEError.ioError
        }
    }

    /// The `st_mtime` a video's file shows, in seconds: what its thumbnails record.
    func shownMTime(of video: Video) -> Int {
        (video.displayTimeMilliseconds.map(Timestamp.init(milliseconds:)) ?? mountTime).seconds
    }
}

/// The shared thumbnails made lately, so a file manager's lookup, `stat` and reads of one make it
/// once. Bounded: the oldest go first.
struct SharedThumbnailBytes: Sendable {
    static let capacity = 256

    private var made: [InodeTable.SharedThumbnail: (name: String, bytes: [UInt8])] = [:]
    private var order: [InodeTable.SharedThumbnail] = []

    /// The bytes made for `file` while its video had `name` (a renamed video's thumbnail records
    /// another name, so it is made again).
    func bytes(_ file: InodeTable.SharedThumbnail, name: String) -> [UInt8]? {
        made[file].flatMap { $0.name == name ? $0.bytes : nil }
    }

    mutating func keep(_ bytes: [UInt8], for file: InodeTable.SharedThumbnail, name: String) {
        if made.updateValue((name, bytes), forKey: file) == nil { order.append(file) }
        if order.count > Self.capacity { made.removeValue(forKey: order.removeFirst()) }
    }
}

/// A folder's videos by the MD5 of their names, as shared thumbnails are named: 16 bytes and a
/// position a video.
struct SharedThumbnailIndex: Sendable {
    struct Digest: Hashable, Sendable {
        var high: UInt64
        var low: UInt64

        /// The digest a thumbnail's name (`<32 hex digits>.png`) spells, if it is one.
        init?(thumbnailName name: String) {
            guard name.hasSuffix(".png") else { return nil }
            self.init(hex: name.dropLast(4))
        }

        init?(hex: Substring) {
            guard hex.utf8.count == 32, let high = UInt64(hex.prefix(16), radix: 16), let low = UInt64(hex.suffix(16), radix: 16),
                  hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
            self.high = high
            self.low = low
        }
    }

    private var positions: [Digest: Int32] = [:]

    init(_ folder: Folder) {
        positions.reserveCapacity(folder.itemPositions.count)
        for position in folder.itemPositions where !folder.isRemoved(position) {
            guard folder.isVideo(at: position), let digest = Digest(hex: Substring(FileURI.md5(folder.name(at: position)))) else { continue }
            positions[digest] = Int32(position)
        }
    }

    func position(of digest: Digest) -> Int? { positions[digest].map(Int.init) }
}
