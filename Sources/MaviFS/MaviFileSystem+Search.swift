import FUSE
import Foundation
import MaviAPI
import MaviLibrary
import Synchronization

/// `search/<words>/` and `search/said/<phrase>/`: looking a name up runs that search (once per
/// time to live, paced by the client), and the folder shows one entry per video hit, best first,
/// with a `hits.m3u` playlist that starts each video at its best clip where the player can.
///
/// A hit is the video's own inode, the one `by-id/` and every view show, not a symlink: file
/// managers then show it as the video it is (size, type, thumbnail) without following a link,
/// players open it directly, the kernel's page cache of the file is shared with every other view,
/// and `user.*` attributes, which Linux does not allow on symlinks, can be read from it.
/// Entries are named `NN name.ext`, NN the rank, so that a plain `ls` or a file manager sorting
/// by name shows them best first.
extension MaviFileSystem {
    static let searchDirectoryName = "search"
    static let phraseDirectoryName = "said"
    static let playlistName = "hits.m3u"

    /// `search/` or `search/said/`: the searches run since the mount, in the order first asked.
    func searchesFolder(_ kind: SearchKey.Kind) -> Folder {
        guard let search else { return .empty }
        var items: [DirectoryItem] = []
        if kind == .words { items.append(directoryItem(Self.phraseDirectoryName, .searches(.phrase))) }
        var seen = Set<String>(items.map(\.name))
        for key in search.searched where key.kind == kind && seen.insert(key.text).inserted {
            items.append(directoryItem(key.text, .searchHits(key)))
        }
        return Folder(items: items)
    }

    /// Any name under `search/` (or `said/`) is a search, run now unless its results are fresh.
    /// Hidden names are not: shells, file managers and desktop indexers look for `.hidden`,
    /// `.directory` or `.git` in every folder they open, and each would cost a search.
    func searchChild(named name: String, kind: SearchKey.Kind) async throws -> DirectoryItem? {
        guard search != nil else { return nil }
        if kind == .words, name == Self.phraseDirectoryName { return directoryItem(name, .searches(.phrase)) }
        guard !name.hasPrefix("."), !name.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        let key = SearchKey(kind, name)
        _ = try await searchFolder(key)
        return directoryItem(name, .searchHits(key))
    }

    /// The folder of a search's hits, made again when the search ran again or the listing changed.
    func searchFolder(_ key: SearchKey) async throws -> SearchFolder {
        let results = try await searchResults(key)
        let full = try await fullListing()
        if let made = searchFolders.folder(key), made.resultsTime == results.fetchedAt, made.listingRevision == full.revision,
           made.hidden == full.hidden {
            return made
        }
        let made = makeSearchFolder(results, listing: full)
        let before = searchFolders.store(made, for: key)
        for hit in made.hits { searchFolders.mark(hit.videoNo, key: key, hits: hit) }
        if let before {
            forgetNames(before.folder.namesGone(from: made.folder), in: .searchHits(key))
            if before.playlist != made.playlist { session?.invalidateInode(inodes.inode(for: .playlist(key))) }
        }
        return made
    }

    /// The results of `key` by the operation's deadline; `EIO` when the server does not answer in
    /// time or fails (with no earlier results to show).
    private func searchResults(_ key: SearchKey) async throws -> SearchResults {
        guard let search else { throw FUSEError.notFound }
        let deadline = Self.operationDeadline ?? .now + options.metadataTimeout
        do {
            return try await Deadlines.abandoning(at: deadline, cancelOnExpiry: false) { try await search.results(key) }
        } catch is DeadlineExpired {
            logger.warning("the server did not answer a search in time", metadata: ["timeout": "\(options.metadataTimeout)"])
            throw FUSEError.ioError
        } catch is CancellationError {
            throw FUSEError.interrupted
        } catch {
            logger.warning("search failed: \(error)")
            throw FUSEError.ioError
        }
    }

    private func makeSearchFolder(_ results: SearchResults, listing: Listing) -> SearchFolder {
        // Only videos the listing shows: a hit needs a size to be a file, and one deleted through
        // the mount stays gone. A video uploaded since the listing joins at its next refresh.
        var shown: [(hits: VideoHits, video: Video)] = []
        for hits in results.videos {
            guard let position = listing.videos.position(of: hits.videoNo), listing.isShown(position) else { continue }
            shown.append((hits, listing.videos[position]))
        }
        let width = max(2, String(shown.count).count)
        var items: [DirectoryItem] = []
        var entries: [PlaylistEntry] = []
        for (rank, hit) in shown.enumerated() {
            let item = videoItem(hit.video, view: .all)
            let ext = (item.name as NSString).pathExtension
            let base = ext.isEmpty ? item.name : String(item.name.dropLast(ext.count + 1))
            let prefix = String(repeating: "0", count: width - String(rank + 1).count) + String(rank + 1) + " "
            var ranked = item
            ranked.name = ext.isEmpty ? FileNaming.truncate(prefix + base, toBytes: FileNaming.maxNameBytes) : FileNaming.compose(prefix + base, ext, suffix: nil)
            items.append(ranked)
            entries.append(PlaylistEntry(path: ranked.name, title: hit.video.videoName, duration: hit.video.duration, clip: hit.hits.bestClip))
        }
        let playlist = Array(Playlist.m3u(entries).utf8)
        items.append(DirectoryItem(
            name: Self.playlistName, inode: inodes.inode(for: .playlist(results.key)), role: .generated, size: UInt64(playlist.count),
            modified: Int64(Date().timeIntervalSince1970 * 1000)))
        let folder = addingSubtitles(
            to: Folder(items: items), positions: shown.indices.filter { shown[$0].video.status == .parsed })
        return SearchFolder(
            folder: folder, playlist: playlist, hits: shown.map(\.hits), resultsTime: results.fetchedAt,
            listingRevision: listing.revision, hidden: listing.hidden)
    }

    func playlistAttributes(_ key: SearchKey, inode: Inode) throws -> FileAttributes {
        guard let made = searchFolders.folder(key), let item = made.folder.item(named: Self.playlistName) else { throw FUSEError.notFound }
        return entry(of: item).attributes
    }

    func readPlaylist(_ key: SearchKey, offset: UInt64, size: Int) throws -> ReadReply {
        guard let bytes = searchFolders.folder(key)?.playlist else { throw FUSEError.notFound }
        guard offset < UInt64(bytes.count) else { return .bytes([]) }
        let start = Int(offset)
        return .bytes(Array(bytes[start..<min(bytes.count, start + size)]))
    }

    /// `user.mavi.search.*` of a video: from the latest search whose folder showed it (a video
    /// is one file in every folder, so its attributes cannot differ from folder to folder). The
    /// query they belong to is one of them.
    func searchXattrs(of videoNo: String) -> [(String, String)] {
        guard let (key, hits) = searchFolders.marks(of: videoNo) else { return [] }
        let prefix = Self.xattrPrefix + "search."
        var a: [(String, String)] = [
            (prefix + "query", key.text), (prefix + "kind", key.kind == .words ? "words" : "phrase"),
        ]
        if let best = hits.bestClip {
            a.append((prefix + "start", WireSeconds.text(best.start)))
            if let end = best.end { a.append((prefix + "end", WireSeconds.text(end))) }
        }
        if let score = hits.bestScore { a.append((prefix + "score", String(format: "%.3f", score))) }
        // Every clip, one a line: `start-end score` (seconds; no end or score for a phrase).
        a.append((prefix + "clips", hits.clips.map { clip in
            var line = WireSeconds.text(clip.start)
            if let end = clip.end { line += "-" + WireSeconds.text(end) }
            if let score = clip.score { line += " " + String(format: "%.3f", score) }
            return line
        }.joined(separator: "\n")))
        return a
    }
}

/// A search folder as made from one search's results and one listing.
struct SearchFolder: Sendable {
    var folder: Folder
    var playlist: [UInt8]
    var hits: [VideoHits]
    var resultsTime: Duration
    var listingRevision: UInt64
    var hidden: Set<String>
}

/// The search folders made so far, and which search last showed each video.
final class SearchFolders: Sendable {
    private let made = Mutex<[SearchKey: SearchFolder]>([:])
    private let marked = Mutex<[String: (SearchKey, VideoHits)]>([:])

    func folder(_ key: SearchKey) -> SearchFolder? { made.withLock { $0[key] } }

    func keys() -> [SearchKey] { made.withLock { Array($0.keys) } }

    /// Keeps `folder` for `key` and returns the one it replaces.
    func store(_ folder: SearchFolder, for key: SearchKey) -> SearchFolder? {
        made.withLock { all in
            defer { all[key] = folder }
            return all[key]
        }
    }

    func mark(_ videoNo: String, key: SearchKey, hits: VideoHits) { marked.withLock { $0[videoNo] = (key, hits) } }

    func marks(of videoNo: String) -> (SearchKey, VideoHits)? { marked.withLock { $0[videoNo] } }
}
