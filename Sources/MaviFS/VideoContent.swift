import MaviAPI
import MaviLibrary

/// Where file bytes come from: the block cache and the shared download streams.
public protocol VideoContent: Sendable {
    /// The bytes `[offset, offset + size)` of the video, fewer only at its end. Throws rather than
    /// return wrong bytes.
    func read(_ video: Video, offset: UInt64, size: Int) async throws -> [UInt8]
    /// Where the same bytes lie in a file that stays open (and holds them) long enough to answer
    /// the kernel from it, so that no byte is copied through Swift. Waits and fails like `read`.
    func cachedFileRange(_ video: Video, offset: UInt64, size: Int) async throws -> CachedFileRange
    /// `cachedFileRange` when every byte is cached already, answered without waiting; `nil`
    /// when some must be fetched first.
    func cachedFileRangeIfPresent(_ video: Video, offset: UInt64, size: Int) -> CachedFileRange?
    /// The reply that used a `cachedFileRange` answer was sent: its bytes need not stay.
    func release(_ range: CachedFileRange)
    /// A file handle on the video was opened.
    func opened(_ video: Video)
    /// A file handle on the video was closed.
    func closed(_ video: Video)
    /// The video was deleted: drop what is cached of it.
    func forget(videoNo: String)
    /// Whether reads of the video wait in the download queue (for their turn under the
    /// download rate limit) rather than for bytes: their deadline counts from the turn.
    func waitsForDownloadTurn(_ video: Video) -> Bool
}

extension VideoContent {
    public func waitsForDownloadTurn(_ video: Video) -> Bool { false }
}
