import FUSE
import Foundation
import MaviAPI
import MaviClient

/// `rm` as a delete on the server, when the mount allows it.
extension MaviFileSystem {
    public func unlink(parent: Inode, name: String, context: RequestContext) async throws {
        try await withMetadataDeadline { try await delete(parent: parent, name: name) }
    }

    /// Records the delete in the journal (durable before `rm` returns) and removes the video
    /// from every view at once; the delete queue sends it to the server in the next batch. When
    /// the journal cannot be written, `rm` fails with `EIO` and nothing changes.
    private func delete(parent: Inode, name: String) async throws {
        guard case .directory(let view) = inodes.node(parent) else { throw FUSEError.notADirectory }
        // A cover goes with its video; it is not deleted on its own.
        if view == .covers { throw FUSEError.notPermitted }
        guard view.listsVideos, let item = try await child(named: name, in: view), item.kind == .regular else { throw FUSEError.notFound }
        // A sidecar goes with its video, like a cover.
        if case .subtitle = inodes.node(item.inode) { throw FUSEError.notPermitted }
        guard
              case .video(let videoNo) = inodes.node(item.inode) else {
            throw FUSEError.notFound
        }
        guard options.allowDelete, let deletes else {
            logger.notice("refused to delete \(name) (\(videoNo)): deletion is permanent, so it needs the --allow-delete mount option")
            throw FUSEError.notPermitted
        }
        do {
            try deletes.request(videoNo)
        } catch {
            logger.error("could not record the delete of \(name) (\(videoNo)); the video stays: \(error)")
            throw FUSEError.ioError
        }
        logger.info("delete of \(name) (\(videoNo)) recorded; it goes to the server with the next batch")
        content.forget(videoNo: videoNo)
        forgetEverywhere(videoNo: videoNo, except: (parent, name))
    }

    /// Removes a deleted video from every view at once: from our state, and from the kernel's
    /// cache of names in every directory that showed it (the kernel drops the unlinked name itself).
    /// Each folder is asked for the names the video can have there (its name, its `by-id` name,
    /// its cover's), never walked: a `find -delete` over a million videos does one lookup per
    /// folder per `rm`.
    func forgetEverywhere(videoNo: String, except unlinked: (Inode, String)) {
        let inode = inodes.inode(forVideo: videoNo)
        let cover = inodes.inode(forCover: videoNo)
        let shownIn = state.withLock { s -> [(View, String, Inode)] in
            var names = [FileNaming.safeComponent(videoNo) + ".jpg"]
            if let name = s.videos.name(of: videoNo) { names.append(name) }
            if let video = s.videos[videoNo] { names.append(FileNaming.idName(video)) }
            s.videos.remove(videoNo)
            // Found first, then marked in place: marking while iterating would copy each folder's
            // set of deleted items.
            var found: [(view: View, position: Int, name: String, inode: Inode)] = []
            for (view, contents) in s.contents {
                for name in names {
                    guard let position = contents.folder.position(named: name) else { continue }
                    let child = contents.folder.inode(at: position)
                    if child == inode || child == cover { found.append((view, position, name, child)) }
                }
            }
            // Marked, not removed: O(1) per delete, where rebuilding a folder of 10,000 videos
            // at each of 10,000 deletes (a find -delete) would take minutes.
            for place in found {
                s.contents[place.view]?.folder.remove(at: place.position)
            }
            return found.map { ($0.view, $0.name, $0.inode) }
        }
        for (view, name, child) in shownIn where child == inode { thumbnailsGone([name], in: view) }
        if case .directory(let view) = inodes.node(unlinked.0) { thumbnailsGone([unlinked.1], in: view) }
        guard let session else { return }
        for (view, name, child) in shownIn {
            let dir = inodes.inode(for: view)
            if dir == unlinked.0 && name == unlinked.1 { continue }
            session.notifyDelete(parent: dir, child: child, name: name)
        }
    }
}
