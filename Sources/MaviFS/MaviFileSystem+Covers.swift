import FUSE
import Foundation
import Glibc
import MaviAPI
import MaviLibrary

/// `.covers/<video_no>.jpg`: every video's cover frame, so file managers and scripts can show
/// thumbnails. A cover is fetched when its file is first looked up or read, then kept on disk.
extension MaviFileSystem {
    static let coversDirectoryName = ".covers"

    /// The covers of every video that has one, named by video number. A cover not fetched yet is
    /// listed with size 0 and no attribute caching, so a `stat` asks again and gets the real size.
    func coverItems() async throws -> DirectoryContents {
        let full = try await fullListing()
        let key = ContentsKey(listings: [full.revision], naming: 0)
        if let cached = state.withLock({ $0.contents[.covers] }), cached.key == key {
            return cached
        }
        var items: [DirectoryItem] = []
        var seen = Set<String>()
        for position in full.videos.indices where full.videos.hasCover(at: position) && full.isShown(position) {
            let video = full.videos[position]
            let name = FileNaming.safeComponent(video.videoNo) + ".jpg"
            guard seen.insert(name).inserted else { continue }
            items.append(coverItem(video, size: covers?.storedSize(videoNo: video.videoNo)))
        }
        let contents = DirectoryContents(key: key, folder: Folder(items: items))
        state.withLock { $0.contents[.covers] = contents }
        return contents
    }

    /// A cover looked up by name: fetched now, so its size is right from the start.
    func coverChild(named name: String) async throws -> DirectoryItem? {
        guard let item = try await coverItems().folder.item(named: name), case .cover(let no) = inodes.node(item.inode),
              let video = state.withLock({ $0.videos[no] }) else { return nil }
        return coverItem(video, size: try await fetchedCoverSize(video))
    }

    func coverAttributes(videoNo: String, inode: Inode) async throws -> FileAttributes {
        guard let video = state.withLock({ $0.videos[videoNo] }) else { throw FUSEError.notFound }
        return entry(of: coverItem(video, size: try await fetchedCoverSize(video))).attributes
    }

    /// A cover never changes, so the kernel keeps its pages; a shared thumbnail records its
    /// video's name, which a rename changes, so it is read anew at each open.
    func openCover(flags: Int32, keepCache: Bool = true) throws -> OpenReply {
        guard flags & O_ACCMODE == O_RDONLY else { throw FUSEError.notPermitted }
        return OpenReply(keepCache: keepCache)
    }

    func readCover(videoNo: String, offset: UInt64, size: Int) async throws -> ReadReply {
        guard let covers, let video = state.withLock({ $0.videos[videoNo] }) else { throw FUSEError.notFound }
        _ = try await coverFileByDeadline(video)
        do {
            return .bytes(try await covers.read(video, offset: offset, size: size))
        } catch {
            logger.warning("cannot read the cover of \(videoNo): \(error)")
            throw FUSEError.ioError
        }
    }

    private func fetchedCoverSize(_ video: Video) async throws -> Int {
        _ = try await coverFileByDeadline(video)
        return covers?.storedSize(videoNo: video.videoNo) ?? 0
    }

    /// The video's cover on disk, fetched by the operation's deadline (else within the metadata
    /// timeout): a cover server that does not answer fails the `stat` or read with EIO in time,
    /// rather than holding it (and the file manager behind it).
    func coverFileByDeadline(_ video: Video) async throws -> String {
        guard let covers else { throw FUSEError.notFound }
        return try await fetchByDeadline("a cover", videoNo: video.videoNo) { try await covers.coverFile(for: video) }
    }

    private func coverItem(_ video: Video, size: Int?) -> DirectoryItem {
        DirectoryItem(name: FileNaming.safeComponent(video.videoNo) + ".jpg", inode: inodes.inode(forCover: video.videoNo),
                      role: .cover(sizeKnown: size != nil), size: UInt64(size ?? 0),
                      changed: video.createTime)
    }
}
