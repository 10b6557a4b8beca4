import FUSE
import Foundation
import Glibc
import MaviAPI
import MaviLibrary

/// Subtitle sidecars: next to each processed video, in every folder, `NAME.srt` (its speech) and,
/// where it has captions, `NAME.captions.srt`, so players load them on their own. A sidecar is
/// fetched when it is first opened, and kept in the cache folder.
///
/// Listing and `stat` cost no request, whatever walks the tree (`ls -l`, `find`, a file manager):
/// a sidecar never fetched shows size 0 and is opened with direct I/O, so a reader gets all its
/// bytes (reads are not cut at the size the kernel was told); its fetch drops the kernel's copy
/// of its attributes, so the next `stat` tells the real size. A video found to have no speech loses its `.srt` (its open
/// fails with ENOENT); captions show once they are known to exist (asked for right after the
/// speech, or when `NAME.captions.srt`, not listed yet, is looked up by name).
extension MaviFileSystem {
    /// `folder` with the sidecars of the processed videos at `videos` (position in the folder,
    /// video number) added after its items.
    func addingSubtitles(to folder: Folder, videos: some Sequence<(Int, String)>) -> Folder {
        guard let subtitles else { return folder }
        let known = subtitles.snapshot()
        let named = videos.map { (position: $0.0, videoNo: $0.1, name: folder.name(at: $0.0)) }
        // Videos that differ only in their extension (`clip.mp4`, `clip.mov`) would share
        // `clip.srt`, and a player could load the other one's: such videos get no sidecar. Only
        // the extensions present are tried, so a folder of one kind costs no look-up.
        let extensions = Set(named.compactMap { SubtitleEntries.splitExtension($0.name)?.ext })
        func sharesItsBase(_ name: String) -> Bool {
            guard extensions.count > 1, let (base, ext) = SubtitleEntries.splitExtension(name) else { return false }
            return extensions.contains { $0 != ext && folder.item(named: base + "." + $0) != nil }
        }
        var entries = SubtitleEntries()
        for (position, videoNo, name) in named where !sharesItsBase(name) {
            if known.state(videoNo, .speech) != .absent { entries.add(video: position, videoName: name, .speech) }
            if case .present = known.state(videoNo, .captions) { entries.add(video: position, videoName: name, .captions) }
        }
        var folder = folder
        folder.subtitles = entries
        return folder
    }

    /// `NAME.captions.srt` looked up by name before its captions are known: fetched now, and shown
    /// if the video has captions.
    func unlistedCaptions(named name: String, in folder: Folder) async throws -> DirectoryItem? {
        guard subtitles != nil, name.hasSuffix(SubtitleKind.captions.fileSuffix) else { return nil }
        let base = String(name.dropLast(SubtitleKind.captions.fileSuffix.count))
        for ext in VideoTypes.mimeTypes.keys.sorted() {
            guard let video = folder.item(named: base + "." + ext), case .video(let videoNo) = inodes.node(video.inode),
                  state.withLock({ $0.videos[videoNo] })?.status == .parsed else { continue }
            guard case .present = try await fetchSubtitle(videoNo, .captions) else { return nil }
            return DirectoryItem(
                name: name, inode: inodes.inode(forSubtitle: .captions, of: videoNo), role: .subtitle,
                modified: video.modifiedMillisecondsIfKnown, changed: video.changedMillisecondsIfKnown)
        }
        return nil
    }

    /// The sidecar's state, fetched by the operation's deadline when not known yet. A video found
    /// to have none, or to have captions, changes what folders show: they are made again.
    func fetchSubtitle(_ videoNo: String, _ kind: SubtitleKind) async throws -> SubtitleState {
        guard let subtitles else { throw FUSEError.notFound }
        let known = subtitles.state(videoNo: videoNo, kind: kind)
        guard known == .unknown else { return known }
        let deadline = Self.operationDeadline ?? .now + options.metadataTimeout
        let learned: SubtitleState
        do {
            learned = try await Deadlines.abandoning(at: deadline, cancelOnExpiry: false) {
                try await subtitles.fetch(videoNo: videoNo, kind: kind)
            }
        } catch is DeadlineExpired {
            logger.warning("the server did not send subtitles in time", metadata: ["video_no": "\(videoNo)", "timeout": "\(options.metadataTimeout)"])
            throw FUSEError.ioError
        } catch is CancellationError {
            throw FUSEError.interrupted
        } catch {
            logger.warning("cannot fetch subtitles: \(error)", metadata: ["video_no": "\(videoNo)"])
            throw FUSEError.ioError
        }
        if case .present = learned {
            // The kernel keeps the size 0 it was told: its new size shows at the next stat.
            session?.invalidateInode(inodes.inode(forSubtitle: kind, of: videoNo), offset: -1)
        }
        if learned == .absent || kind == .captions { foldersChanged() }
        if kind == .speech, learned != .absent, subtitles.state(videoNo: videoNo, kind: .captions) == .unknown {
            // Whether captions exist is asked right after the speech (in its turn, 1 a second).
            Task { [weak self] in
                guard let self, let captions = try? await subtitles.fetch(videoNo: videoNo, kind: .captions) else { return }
                if case .present = captions { self.foldersChanged() }
            }
        }
        return learned
    }

    /// Folders of videos are made again at their next look.
    private func foldersChanged() {
        state.withLock { $0.namingGeneration += 1 }
    }

    func subtitleAttributes(_ videoNo: String, _ kind: SubtitleKind, inode: Inode) throws -> AttributesReply {
        guard let subtitles, let video = state.withLock({ $0.videos[videoNo] }) else { throw FUSEError.notFound }
        if subtitles.state(videoNo: videoNo, kind: kind) == .absent { throw FUSEError.notFound }
        let item = DirectoryItem(name: "", inode: inode, role: .subtitle, modified: video.displayTimeMilliseconds, changed: video.createTime)
        let entry = entry(of: item)
        return AttributesReply(attributes: entry.attributes, timeout: entry.attributeTimeout)
    }

    /// The attributes of a sidecar as known now: its size once fetched, else 0. Kept by the kernel
    /// like any file's, so a warm `ls -l` asks nothing per sidecar; the fetch that learns the size
    /// drops the kernel's copy (and reads of a sidecar not fetched yet use direct I/O, so they are
    /// never cut at 0).
    func subtitleEntry(_ item: DirectoryItem) -> Entry {
        var size: UInt64 = 0
        if case .subtitle(let videoNo, let kind) = inodes.node(item.inode), case .present(let bytes) = subtitles?.state(videoNo: videoNo, kind: kind) {
            size = UInt64(bytes)
        }
        let shown = item.modified ?? mountTime
        let ttl = options.ttlSeconds
        return Entry(attributes: FileAttributes(
            inode: item.inode, kind: .regular, permissions: 0o444 & ~options.umask, size: size, linkCount: 1, uid: options.uid,
            gid: options.gid, accessTime: shown, modificationTime: shown, changeTime: item.changed ?? mountTime),
                     entryTimeout: ttl, attributeTimeout: ttl)
    }

    func openSubtitle(_ videoNo: String, _ kind: SubtitleKind, inode: Inode, flags: Int32) async throws -> OpenReply {
        guard flags & O_ACCMODE == O_RDONLY else { throw FUSEError.notPermitted }
        guard case .present = try await withMetadataDeadline({ try await fetchSubtitle(videoNo, kind) }) else { throw FUSEError.notFound }
        // Direct I/O: the kernel may have been told size 0 before the fetch.
        return OpenReply(handle: inode, directIO: true)
    }

    func readSubtitle(_ videoNo: String, _ kind: SubtitleKind, offset: UInt64, size: Int) throws -> ReadReply {
        guard let subtitles else { throw FUSEError.notFound }
        do {
            return .bytes(try subtitles.read(videoNo: videoNo, kind: kind, offset: offset, size: size))
        } catch {
            logger.warning("cannot read subtitles: \(error)", metadata: ["video_no": "\(videoNo)"])
            throw FUSEError.ioError
        }
    }
}
