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
/// of its attributes, so the next `stat` tells the real size.
///
/// A folder holds both sidecars of every processed video, and which of them show is decided when
/// they are listed or looked up, from what is known then: a video found to have no speech loses
/// its `.srt` (its open fails with ENOENT), captions show once they are known to exist (asked for
/// right after the speech, or when `NAME.captions.srt` is looked up by name). What is learned of
/// one video so costs no folder anything: none is made again.
///
/// A folder of more videos than `sidecarListingLimit` (`all/` of a very large library) lists
/// none of its sidecars, which would double what every `ls -l` and file manager goes through
/// there; they still open by name, and smaller folders (`by-date/`, tags) list them.
extension MaviFileSystem {
    /// `folder` with the sidecars of the processed videos at `positions` added after its items.
    /// Two passes over the names, keeping none: a folder of a million videos is made without a
    /// million strings held at once.
    func addingSubtitles(to folder: Folder, positions: some Collection<Int>) -> Folder {
        guard subtitles != nil else { return folder }
        let captionsSuffix = SubtitleKind.captions.fileSuffix.dropLast(SubtitleKind.speech.fileSuffix.count)
        var extensions: [String] = []
        var basesEndingInCaptions = Set<String>()
        for position in positions {
            let name = folder.name(at: position)
            guard let (base, ext) = SubtitleEntries.splitExtension(name) else { continue }
            if !extensions.contains(where: { $0 == ext }) { extensions.append(String(ext)) }
            if base.hasSuffix(captionsSuffix) { basesEndingInCaptions.insert(String(base)) }
        }
        // Videos that differ only in their extension (`clip.mp4`, `clip.mov`) would share
        // `clip.srt`, and a player could load the other one's: such videos get no sidecar. Only
        // the extensions present are tried, so a folder of one kind costs no look-up.
        func sharesItsBase(_ base: Substring, _ ext: Substring) -> Bool {
            extensions.count > 1 && extensions.contains { $0 != ext && folder.item(named: base + "." + $0) != nil }
        }
        var entries = SubtitleEntries()
        for position in positions {
            let name = folder.name(at: position)
            guard let (base, ext) = SubtitleEntries.splitExtension(name), !sharesItsBase(base, ext) else { continue }
            entries.add(video: position, videoName: name, .speech)
            // `clip.captions.mp4`'s speech and `clip.mp4`'s captions would both be
            // `clip.captions.srt`: the file called so is the speech of the video called so.
            if basesEndingInCaptions.isEmpty || !basesEndingInCaptions.contains(String(base + captionsSuffix)) {
                entries.add(video: position, videoName: name, .captions)
            }
        }
        var folder = folder
        folder.subtitles = entries
        folder.sidecarsListed = folder.videoCount <= options.sidecarListingLimit
        return folder
    }

    /// The sidecar `item` as a lookup by name finds it: captions not known yet are fetched now,
    /// and found if the video has them.
    func lookedUp(sidecar item: DirectoryItem) async throws -> DirectoryItem? {
        guard let subtitles, case .subtitle(let videoNo, let kind) = inodes.node(item.inode) else { return nil }
        switch subtitles.state(videoNo: videoNo, kind: kind) {
        case .absent: return nil
        case .present: return item
        case .unknown:
            guard kind == .captions else { return item }
            guard case .present = try await fetchSubtitle(videoNo, .captions) else { return nil }
            return item
        }
    }

    /// The sidecar's state, fetched by the operation's deadline when not known yet.
    func fetchSubtitle(_ videoNo: String, _ kind: SubtitleKind) async throws -> SubtitleState {
        guard let subtitles else { throw FUSEError.notFound }
        let known = subtitles.state(videoNo: videoNo, kind: kind)
        guard known == .unknown else { return known }
        let learned = try await fetchByDeadline("subtitles", videoNo: videoNo) { try await subtitles.fetch(videoNo: videoNo, kind: kind) }
        if case .present = learned {
            // The kernel keeps the size 0 it was told: its new size shows at the next stat.
            session?.invalidateInode(inodes.inode(forSubtitle: kind, of: videoNo), offset: -1)
        }
        // Captions are listed only once known to exist: none found leaves nothing to forget.
        if learned == .absent, kind == .speech { forgetSpeechSidecar(of: videoNo) }
        if kind == .speech, learned != .absent, subtitles.state(videoNo: videoNo, kind: .captions) == .unknown {
            // Whether captions exist is asked right after the speech (in its turn, 1 a second);
            // folders list them from then on.
            Task { _ = try? await subtitles.fetch(videoNo: videoNo, kind: .captions) }
        }
        return learned
    }

    /// A speech sidecar found not to exist leaves the kernel's cache of every folder made so far
    /// that holds it (their listings already skip it). Its video is found by name in folders of
    /// videos, as `rm` finds it; search folders are short and walked.
    private func forgetSpeechSidecar(of videoNo: String) {
        guard let session else { return }
        let video = inodes.inode(forVideo: videoNo)
        var gone = state.withLock { s -> [(Inode, String)] in
            guard let record = s.videos[videoNo] else { return [] }
            let name = s.videos.name(of: videoNo)
            return s.contents.compactMap { view, contents in
                guard let videoName = view.namesByID ? FileNaming.idName(record) : name,
                      let sidecar = contents.folder.name(ofSidecar: .speech, ofVideo: video, named: videoName) else { return nil }
                return (inodes.inode(for: view), sidecar)
            }
        }
        for key in searchFolders.keys() {
            guard let name = searchFolders.folder(key)?.folder.name(ofSidecar: .speech, ofVideo: video, named: nil) else { continue }
            gone.append((inodes.inode(for: .searchHits(key)), name))
        }
        for (parent, name) in gone { session.invalidateEntry(parent: parent, name: name) }
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
        return subtitleEntry(item, size: size)
    }

    func subtitleEntry(_ item: DirectoryItem, size: UInt64) -> Entry {
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
