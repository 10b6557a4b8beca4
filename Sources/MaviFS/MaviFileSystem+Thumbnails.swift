import FUSE
import Foundation
import MaviAPI
import Thumbnails

/// Desktop thumbnails: each folder of videos listed has its videos' thumbnails written to the
/// user's thumbnail cache in the background, and a video that leaves a folder takes its
/// thumbnail with it.
extension MaviFileSystem {
    /// Writes thumbnails for the files of this mount at `mountpoint` (absolute, as file managers
    /// will see it) into `cache`. Needs the cover store; without it nothing is written.
    public func writeThumbnails(mountpoint: String, into cache: ThumbnailCache) {
        guard let covers else {
            logger.notice("no thumbnails: this mount serves no covers")
            return
        }
        desktopThumbnails.withLock { $0 = DesktopThumbnails(mountpoint: mountpoint, cache: cache, covers: covers, logger: logger) }
    }

    /// What the thumbnail writer did since it was turned on.
    public var thumbnailCounts: ThumbnailCounts {
        desktopThumbnails.withLock { $0 }?.counts ?? ThumbnailCounts(written: 0, current: 0, failed: 0)
    }

    /// Queues the thumbnails of a folder of videos just listed; returns at once.
    func folderListed(_ view: View, _ folder: Folder) {
        guard view.showsVideoFiles, let thumbnails = desktopThumbnails.withLock({ $0 }),
              let directory = relativePath(of: view) else { return }
        let base = thumbnails.mountpoint + "/" + directory + "/"
        Task.detached(priority: .background) { [self] in
            var jobs: [DesktopThumbnails.Job] = []
            for position in folder.itemPositions where !folder.isRemoved(position) {
                guard jobs.count < DesktopThumbnails.maxQueued else { break }
                let item = folder[position]
                guard case .video(let no) = inodes.node(item.inode), let video = state.withLock({ $0.videos[no] }),
                      video.coverURL != nil else { continue }
                jobs.append(DesktopThumbnails.Job(path: base + item.name, video: video, mtime: (item.modified ?? mountTime).seconds))
            }
            thumbnails.enqueue(jobs)
        }
    }

    /// Removes the thumbnails of names a folder no longer shows.
    func thumbnailsGone(_ names: [String], in view: View) {
        guard view.showsVideoFiles, !names.isEmpty, let thumbnails = desktopThumbnails.withLock({ $0 }),
              let directory = relativePath(of: view) else { return }
        let base = thumbnails.mountpoint + "/" + directory + "/"
        thumbnails.remove(paths: names.map { base + $0 })
    }

    /// Where a view's folder is inside the mount, as its names are given.
    func relativePath(of view: View) -> String? {
        switch view {
        case .root: ""
        case .all: "all"
        case .statuses: "by-status"
        case .status(let s): "by-status/" + s
        case .tags: "by-tag"
        case .tag(let t): "by-tag/" + FileNaming.directoryName(t)
        case .cameras: "by-camera"
        case .camera(let c): "by-camera/" + FileNaming.directoryName(c)
        case .years: "by-date"
        case .year(let y): String(format: "by-date/%04d", y)
        case .month(let y, let m): String(format: "by-date/%04d/%02d", y, m)
        case .day(let y, let m, let d): String(format: "by-date/%04d/%02d/%02d", y, m, d)
        case .byID: "by-id"
        case .covers: Self.coversDirectoryName
        case .sharedThumbnails(let v): relativePath(of: v).map { $0 + "/" + Self.sharedThumbnailsDirectoryName }
        case .sharedThumbnailSize(let v, let size): relativePath(of: .sharedThumbnails(v)).map { $0 + "/" + size.folderName }
        case .searches(.words): Self.searchDirectoryName
        case .searches(.phrase): Self.searchDirectoryName + "/" + Self.phraseDirectoryName
        case .searchHits(let key): relativePath(of: .searches(key.kind)).map { $0 + "/" + key.text }
        }
    }
}
