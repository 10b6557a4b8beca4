import FUSE
import Foundation
import Glibc
import Logging
import MaviAPI
import MaviClient
import MaviLibrary
import Synchronization

/// The video library as a directory tree: views built from `list_videos` queries, files read
/// through `VideoContent`, and `rm` as a delete when allowed.
public final class MaviFileSystem: FileSystemOperations, Sendable {
    let catalog: VideoCatalog
    let content: any VideoContent
    let covers: CoverStore?
    /// Runs the searches of `search/`; without it there is no `search/` folder.
    let search: SearchCatalog?
    let searchFolders = SearchFolders()
    /// Keeps the subtitle sidecars; without it no video has one.
    let subtitles: SubtitleStore?
    /// Where `rm` records deletes (with `allowDelete`); without it, `rm` is refused.
    let deletes: DeleteQueue?
    let options: MaviFSOptions
    let logger: Logger
    let inodes = InodeTable()
    let mountTime = Timestamp.now()
    let state = Mutex(NamingState())
    let openDirectories = Mutex<[UInt64: Folder]>([:])
    let nextHandle = Atomic<UInt64>(1)
    let notifier = Mutex<FUSESession?>(nil)
    let listingWatch = ListingWatch()
    let stalledVideos = StalledVideos()
    let filteredFallbacks = FilteredFallbacks()
    /// Set once a mount point and a thumbnail cache are known (``writeThumbnails(mountpoint:into:)``).
    let desktopThumbnails = Mutex<DesktopThumbnails?>(nil)
    let sharedThumbnails = Mutex(SharedThumbnailBytes())
    /// What listings need to know of subtitle sidecars, kept as the subtitle store learns it.
    let sidecarFacts = Mutex(SidecarFacts())
    /// Per folder of videos, its index of names by MD5, while the folder is the same.
    let sharedThumbnailIndexes = Mutex<[View: (key: ContentsKey, index: SharedThumbnailIndex)]>([:])

    /// The latest record of every video seen, and the names given to them.
    struct NamingState {
        var videos = KnownVideos()
        /// Bumped whenever names are given again.
        var namingGeneration = 0
        var fullListingRevision: UInt64?
        /// Leaf directories' items, reused while their listings and names are unchanged, so a
        /// lookup costs a dictionary access, not a rebuild of a 10,000-entry directory.
        var contents: [View: DirectoryContents] = [:]
    }

    struct ContentsKey: Equatable {
        /// The revisions of the listings the contents were made from.
        var listings: [UInt64]
        var naming: Int
    }

    struct DirectoryContents {
        var key: ContentsKey
        var folder: Folder
    }

    /// `covers`, when given, serves each video's cover frame in `.covers/`; `deletes` takes the
    /// deletes of `rm` when `options.allowDelete` is set.
    public init(catalog: VideoCatalog, content: any VideoContent, covers: CoverStore? = nil, deletes: DeleteQueue? = nil,
                search: SearchCatalog? = nil, subtitles: SubtitleStore? = nil, options: MaviFSOptions,
                logger: Logger = Logger(label: "mavifs.fs")) {
        self.catalog = catalog
        self.content = content
        self.covers = covers
        self.search = search
        self.subtitles = subtitles
        self.deletes = deletes
        self.options = options
        self.logger = logger
        // The store's one observer; it numbers the videos whose sidecars earlier mounts kept.
        subtitles?.observe { [weak self] videoNo, kind, state in
            guard let self else { return }
            let inode = inodes.inode(forSubtitle: kind, of: videoNo)
            sidecarFacts.withLock { $0.learned(state, kind, inode: inode) }
        }
    }

    /// Lets the filesystem tell the kernel when names disappear or change.
    public func attach(_ session: FUSESession) {
        notifier.withLock { $0 = session }
    }

    var session: FUSESession? { notifier.withLock { $0 } }

    /// The name a video has in the mount's views, once the mount has named it.
    public func fileName(of videoNo: String) -> String? {
        state.withLock { $0.videos.name(of: videoNo) }
    }

    public func initialize(_ connection: inout ConnectionSettings) {
        connection.want.insert([.readdirPlus, .readdirPlusAuto])
        // Contents of a video never change for the same size, so cached pages stay valid; the
        // kernel is told explicitly when they do not.
        connection.want.remove(.autoInvalidateData)
        // Read-ahead large enough to keep a download stream busy.
        connection.maxReadahead = max(connection.maxReadahead, 1 << 20)
    }

    // MARK: Lookup and attributes

    public func lookup(parent: Inode, name: String, context: RequestContext) async throws -> Entry {
        guard case .directory(let view) = inodes.node(parent) else { throw FUSEError.notADirectory }
        guard let item = try await withMetadataDeadline({ try await child(named: name, in: view) }) else {
            throw FUSEError.notFound
        }
        return entry(of: item)
    }

    public func getattr(inode: Inode, context: RequestContext) async throws -> AttributesReply {
        switch inodes.node(inode) {
        case .directory:
            return AttributesReply(attributes: directoryAttributes(inode), timeout: options.ttlSeconds)
        case .video(let no):
            guard let video = state.withLock({ $0.videos[no] }) else { throw FUSEError.notFound }
            return AttributesReply(attributes: attributes(of: video, inode: inode), timeout: options.ttlSeconds)
        case .cover(let no):
            return AttributesReply(attributes: try await coverAttributes(videoNo: no, inode: inode), timeout: options.ttlSeconds)
        case .sharedThumbnail(let file):
            return AttributesReply(attributes: try await sharedThumbnailAttributes(file, inode: inode), timeout: options.ttlSeconds)
        case .generated(.playlist(let key)):
            return AttributesReply(attributes: try playlistAttributes(key, inode: inode), timeout: options.ttlSeconds)
        case .subtitle(let no, let kind):
            return try subtitleAttributes(no, kind, inode: inode)
        case nil:
            throw FUSEError.notFound
        }
    }

    // MARK: Directories

    public func opendir(inode: Inode, flags: Int32, context: RequestContext) async throws -> OpenReply {
        guard case .directory(let view) = inodes.node(inode) else { throw FUSEError.notADirectory }
        let folder = try await withMetadataDeadline { try await contents(of: view) }
        folderListed(view, folder)
        let handle = nextHandle.wrappingAdd(1, ordering: .relaxed).oldValue
        openDirectories.withLock { $0[handle] = folder }
        return OpenReply(handle: handle)
    }

    public func readdir(inode: Inode, directory: OpenFile, offset: UInt64, into buffer: DirectoryBuffer, context: RequestContext) async throws {
        guard case .directory(let view) = inodes.node(inode) else { throw FUSEError.notADirectory }
        guard let folder = openDirectories.withLock({ $0[directory.handle] }) else { throw FUSEError.badHandle }
        // Offset 0 is ".", 1 is "..", 2 + k is the k-th item.
        var index = Int(offset)
        if index == 0 {
            guard buffer.add(name: ".", inode: inode, kind: .directory, nextOffset: 1) else { return }
            index = 1
        }
        if index == 1 {
            let parent = inodes.inode(for: parentView(of: view))
            guard buffer.add(name: "..", inode: parent, kind: .directory, nextOffset: 2) else { return }
            index = 2
        }
        sidecarFacts.withLock { sidecars in
            while index - 2 < folder.listedCount {
                let position = index - 2
                // A sidecar shows as what is known of it now, and is not made unless shown.
                let sidecar = folder.sidecar(at: position)
                let sidecarSize = sidecar.flatMap { sidecars.listedSize($0.inode, $0.kind) }
                // An offset stays the place of its item, whatever was deleted before it.
                if !folder.isRemoved(position), sidecar == nil || sidecarSize != nil {
                    let item = folder[position]
                    let entry = sidecarSize.map { subtitleEntry(item, size: $0) } ?? entry(of: item)
                    guard buffer.add(name: item.name, entry: entry, nextOffset: UInt64(index + 1)) else { return }
                }
                index += 1
            }
        }
    }

    public func releasedir(inode: Inode, directory: OpenFile) async {
        _ = openDirectories.withLock { $0.removeValue(forKey: directory.handle) }
    }

    // MARK: Files

    public func open(inode: Inode, flags: Int32, context: RequestContext) async throws -> OpenReply {
        switch inodes.node(inode) {
        case .cover: return try openCover(flags: flags)
        case .sharedThumbnail: return try openCover(flags: flags, keepCache: false)
        default: break
        }
        if case .subtitle(let no, let kind) = inodes.node(inode) { return try await openSubtitle(no, kind, inode: inode, flags: flags) }
        if case .generated = inodes.node(inode) {
            guard flags & O_ACCMODE == O_RDONLY else { throw FUSEError.notPermitted }
            // A playlist is made again when its search runs again: never kept from an earlier open.
            return OpenReply(handle: inode)
        }
        guard case .video(let no) = inodes.node(inode) else { throw FUSEError.isADirectory }
        guard flags & O_ACCMODE == O_RDONLY else { throw FUSEError.notPermitted }
        guard let video = state.withLock({ $0.videos[no] }) else { throw FUSEError.notFound }
        if Self.isReadable(video) { content.opened(video) }
        // Page-cached reads with keep_cache: a second read of a video is served by the kernel.
        return OpenReply(handle: inode, keepCache: true)
    }

    public func read(inode: Inode, file: OpenFile, offset: UInt64, size: Int, context: RequestContext) async throws -> ReadReply {
        if case .cover(let no) = inodes.node(inode) { return try await readCover(videoNo: no, offset: offset, size: size) }
        if case .sharedThumbnail(let file) = inodes.node(inode) { return try await readSharedThumbnail(file, offset: offset, size: size) }
        if case .generated(.playlist(let key)) = inodes.node(inode) { return try readPlaylist(key, offset: offset, size: size) }
        if case .subtitle(let no, let kind) = inodes.node(inode) { return try readSubtitle(no, kind, offset: offset, size: size) }
        guard case .video(let no) = inodes.node(inode) else { throw FUSEError.isADirectory }
        guard let video = state.withLock({ $0.videos[no] }) else { throw FUSEError.notFound }
        let length = UInt64(max(0, video.size ?? 0))
        guard offset < length else { return .endOfFile }
        guard Self.isReadable(video) else {
            logger.warning("refusing to read a video whose listed size is absurd", metadata: ["video_no": "\(no)", "size": "\(length)"])
            throw FUSEError.ioError
        }
        let count = Int(min(UInt64(size), length - offset))
        // Answered from the cache file: the kernel copies the bytes, never Swift. They stay in the
        // cache until the reply is out.
        let content = content
        let range: CachedFileRange
        if let cached = content.cachedFileRangeIfPresent(video, offset: offset, size: count) {
            // Bytes already in the cache need no deadline, nor the tasks that enforce one.
            stalledVideos.delivered(video.videoNo)
            range = cached
        } else {
            range = try await withReadDeadline(video, offset: offset, count: count) {
                try await content.cachedFileRange(video, offset: offset, size: count)
            }
        }
        guard range.length > 0 else { return .endOfFile }
        return .fileRangeUntilSent(descriptor: range.descriptor, offset: range.offset, length: range.length) { content.release(range) }
    }

    public func release(inode: Inode, file: OpenFile) async {
        guard case .video(let no) = inodes.node(inode), let video = state.withLock({ $0.videos[no] }), Self.isReadable(video) else { return }
        content.closed(video)
    }

    /// The largest file read through the cache. A listing is input from the network, and a size
    /// beyond any real video (up to 2^63 - 1) must not become a cache file or its block table;
    /// such a file shows its listed size, and reading it fails with `EIO`.
    static let maxReadableSize: Int64 = 1 << 40

    static func isReadable(_ video: Video) -> Bool {
        guard let size = video.size else { return false }
        return size >= 0 && size <= maxReadableSize
    }

    public func statfs(inode: Inode, context: RequestContext) async throws -> FileSystemStatistics {
        // From what is cached only: `df` must never wait for the network.
        let (count, bytes) = state.withLock { $0.videos.totals }
        let block: UInt64 = 4096
        return FileSystemStatistics(
            blockSize: UInt(block), totalBlocks: (bytes + block - 1) / block, freeBlocks: 0, availableBlocks: 0,
            totalFiles: UInt64(count), freeFiles: 0, maximumNameLength: UInt(FileNaming.maxNameBytes))
    }

    // MARK: Everything else is refused

    public func rmdir(parent: Inode, name: String, context: RequestContext) async throws { throw FUSEError.notPermitted }
    public func mkdir(parent: Inode, name: String, mode: mode_t, context: RequestContext) async throws -> Entry { throw FUSEError.notPermitted }
    public func mknod(parent: Inode, name: String, mode: mode_t, context: RequestContext) async throws -> Entry { throw FUSEError.notPermitted }
    public func create(parent: Inode, name: String, mode: mode_t, flags: Int32, context: RequestContext) async throws -> (Entry, OpenReply) {
        throw FUSEError.notPermitted
    }
    public func rename(parent: Inode, name: String, newParent: Inode, newName: String, flags: UInt32, context: RequestContext) async throws {
        throw FUSEError.notPermitted
    }
    public func link(inode: Inode, newParent: Inode, newName: String, context: RequestContext) async throws -> Entry { throw FUSEError.notPermitted }
    public func symlink(target: String, parent: Inode, name: String, context: RequestContext) async throws -> Entry { throw FUSEError.notPermitted }
    public func write(inode: Inode, file: OpenFile, offset: UInt64, data: [UInt8], context: RequestContext) async throws -> Int {
        throw FUSEError.badHandle
    }
    public func setattr(inode: Inode, changes: AttributeChanges, file: OpenFile?, context: RequestContext) async throws -> AttributesReply {
        throw FUSEError.notPermitted
    }
}
