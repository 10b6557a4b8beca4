import Dispatch
import Foundation
import Logging
import MaviFS
import MaviLibrary
import Synchronization

/// Keeps a mount's status file current: rewritten every `interval` while mounted, and once more
/// when the mount ends (state `stopped`), so `mavifs status` can still tell what happened last.
final class StatusPublisher: Sendable {
    struct Identity: Sendable {
        var mountpoint: String
        var endpoint: String
        var namespace: String
        var allowDelete: Bool
        var listTTLSeconds: Int
        var cacheDirectory: String
        var logFile: String?
    }

    let path: String
    private let identity: Identity
    private let reader: VideoReader
    private let catalog: VideoCatalog
    private let deletes: DeleteQueue?
    private let events: RecentEvents
    private let logger: Logger
    private let startedAt = Date()
    private let metricsURL = Mutex<String?>(nil)
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let refreshSource = Mutex<SignalSource?>(nil)
    /// A video's file name, as the mount shows it (set once the filesystem exists).
    private let fileName = Mutex<(@Sendable (String) -> String?)?>(nil)
    private let thumbnailCounts = Mutex<(@Sendable () -> ThumbnailCounts)?>(nil)

    init(identity: Identity, reader: VideoReader, catalog: VideoCatalog, deletes: DeleteQueue? = nil, events: RecentEvents, logger: Logger) {
        self.identity = identity
        self.reader = reader
        self.catalog = catalog
        self.deletes = deletes
        self.events = events
        self.logger = logger
        path = MountStatusFiles.path(forMountpoint: identity.mountpoint)
    }

    func setFileNames(_ lookup: @escaping @Sendable (String) -> String?) {
        fileName.withLock { $0 = lookup }
    }

    /// Turns on the thumbnails line: `counts` tells how many were written and failed.
    func setThumbnailCounts(_ counts: @escaping @Sendable () -> ThumbnailCounts) {
        thumbnailCounts.withLock { $0 = counts }
    }

    func setMetricsURL(_ url: String) {
        metricsURL.withLock { $0 = url }
    }

    func start(interval: Duration = .seconds(2)) {
        // SIGUSR1 asks for a rewrite now: `mavifs status` sends it before reading the file.
        signal(SIGUSR1, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: .global())
        source.setEventHandler { [weak self] in self?.publish(.mounted) }
        source.resume()
        let box = SignalSource(source)
        refreshSource.withLock { $0 = box }
        publish(.mounted)
        let loop = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self, !Task.isCancelled else { return }
                self.publish(.mounted)
            }
        }
        task.withLock { $0 = loop }
    }

    /// Stops the updates and writes the final state.
    func stop() async {
        refreshSource.withLock { $0 }?.source.cancel()
        let loop = task.withLock { $0 }
        loop?.cancel()
        await loop?.value
        publish(.stopped)
    }

    func publish(_ state: MountStatus.State) {
        do {
            try MountStatusFiles.write(snapshot(state), to: path)
        } catch {
            logger.debug("could not write the status file", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }

    func snapshot(_ state: MountStatus.State) -> MountStatus {
        let stats = reader.stats()
        let listing = catalog.cached()
        let refreshes = catalog.refreshStats
        let name = fileName.withLock { $0 }
        let age = listing.map { (ContinuousClock.now - $0.fetchedAt).components }.map { Double($0.seconds) + Double($0.attoseconds) * 1e-18 }
        return MountStatus(
            state: state, pid: getpid(), mountpoint: identity.mountpoint, endpoint: identity.endpoint, namespace: identity.namespace,
            allowDelete: identity.allowDelete, listTTLSeconds: identity.listTTLSeconds, startedAt: startedAt, updatedAt: Date(),
            metricsURL: metricsURL.withLock { $0 }, logFile: identity.logFile, refreshSignal: state == .mounted ? "USR1" : nil,
            videos: listing?.shownCount, listingAgeSeconds: age, listingStale: listing?.isStale ?? false,
            listingStored: catalog.isRestored,
            listingRefreshes: MountStatus.Refreshes(
                incremental: refreshes.incremental, whole: refreshes.whole, lastCalls: refreshes.lastCalls, lastWholeReason: refreshes.lastWholeReason),
            cache: MountStatus.Cache(
                directory: identity.cacheDirectory, bytesCached: stats.bytesCached, bytesUsed: stats.bytesUsed, maxBytes: stats.maxBytes,
                files: stats.files, completeFiles: stats.completeFiles, bytesFromCache: stats.bytesFromCache,
                bytesFromNetwork: stats.bytesFromNetwork, bytesDownloaded: stats.bytesDownloaded, hitRatio: stats.hitRatio),
            downloads: stats.downloadsInFlight.map {
                MountStatus.Download(
                    videoNo: $0.videoNo, name: name?($0.videoNo), received: $0.received, size: $0.size, attempt: $0.attempt,
                    background: $0.background)
            },
            deletes: deletes.map { MountStatus.Deletes($0.stats()) },
            thumbnails: thumbnailCounts.withLock { $0 }.map { counts in
                let now = counts()
                return MountStatus.Thumbnails(written: now.written, current: now.current, failed: now.failed)
            },
            recentEvents: events.snapshot)
    }
}

/// A dispatch signal source, whose methods may be called from any thread.
private final class SignalSource: @unchecked Sendable {
    let source: any DispatchSourceSignal

    init(_ source: any DispatchSourceSignal) {
        self.source = source
    }
}
