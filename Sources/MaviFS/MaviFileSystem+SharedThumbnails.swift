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
        for position in 0..<videos.count where !videos.isRemoved(position) {
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

    /// A thumbnail looked up by name: made now, so its size is right from the start.
    func sharedThumbnailChild(named name: String, in view: View, size: ThumbnailSize) async throws -> DirectoryItem? {
        guard var item = try await sharedThumbnailItems(of: view, size: size).item(named: name),
              case .sharedThumbnail(let file) = inodes.node(item.inode) else { return nil }
        item.size = UInt64(try await sharedThumbnailBytes(file).count)
        item.role = .cover(sizeKnown: true)
        return item
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
        guard let covers, let video = state.withLock({ $0.videos[file.videoNo] }) else { throw FUSEError.notFound }
        let name = file.namedByID ? FileNaming.idName(video) : state.withLock { $0.videos.name(of: video.videoNo) } ?? FileNaming.idName(video)
        if let bytes = sharedThumbnails.withLock({ $0.bytes(file, name: name) }) { return bytes }
        do {
            let facts = ThumbnailFacts(
                uri: try FileURI.relativeURI(forFileName: name), mtime: shownMTime(of: video), size: UInt64(max(0, video.size ?? 0)),
                mimeType: VideoTypes.mimeType(ofExtension: FileNaming.fileExtension(video)), movieLength: video.duration.map(Int.init))
            let cover = try await covers.coverFile(for: video)
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
