import FUSE
import Foundation
import Glibc
import Logging
import MaviClient
import MaviFS
import MaviLibrary
import Thumbnails

/// Every setting a mount runs with, resolved from flags, the settings file and defaults.
struct MountSettings {
    var client: ClientConfiguration
    var cache: CacheConfiguration
    var allowDelete: Bool
    /// Write desktop thumbnails from the covers into the user's thumbnail cache.
    var thumbnails: Bool
    /// Subtitle sidecars beside processed videos.
    var subtitles: Bool
    /// Folders of more videos than this list no sidecars.
    var sidecarListingLimit: Int
    var listTTL: Int
    var options: ParsedMountOptions
    var metricsAddress: MetricsAddress?
    var deadlines: MountDeadlines
    var verbose: Bool
    var report: SettingsReport
}

/// A mount from start to end: first listing, mount, status file and metrics while mounted, and a
/// clean shutdown when it is unmounted (by `mavifs unmount`, `fusermount3 -u`, SIGTERM or SIGINT).
struct MountService {
    let mountpoint: String
    let settings: MountSettings
    let logFile: String?

    func run(ready: ReadinessPipe?) async throws {
        let configuration = settings.client
        // Read; this long-running process keeps it out of its environment from now on.
        SecretEnvironment.erase(APIKey.environmentVariable)
        let events = RecentEvents(scrub: { [key = configuration.apiKey] text in key?.scrub(text) ?? text })
        let verbose = settings.verbose
        func logger(_ label: String) -> Logger { MavifsLogging.logger(label, verbose: verbose, events: events) }
        let log = logger("mavifs")
        let notifier = ServiceNotifier()

        // Before anything records a metric: handlers are made by the factory bootstrapped here.
        let metrics = settings.metricsAddress.map { _ in MetricsEndpoint() }

        let api = MaviClient(configuration: configuration, logger: logger("mavifs.client"))
        let reader: VideoReader
        do {
            reader = try VideoReader(client: api, namespace: configuration.namespace, configuration: settings.cache, logger: logger("mavifs.cache"))
        } catch {
            try? await api.shutdown()
            throw error
        }
        // The listing a previous mount stored: shown at once, refreshed in the background.
        var store: ListingStore?
        do {
            store = try ListingStore(
                path: ListingStore.path(
                    cacheDirectory: settings.cache.directory, endpoint: configuration.endpoint.absoluteString, namespace: configuration.namespace),
                logger: logger("mavifs.catalog"))
        } catch {
            log.notice("no listing store (every mount lists the library again): \(error)")
        }
        let catalog = VideoCatalog(source: api, ttl: .seconds(settings.listTTL), store: store, logger: logger("mavifs.catalog"))
        // Loaded before anything is listed: deletes an earlier mount recorded stay hidden, and are
        // sent again, even by a mount without --allow-delete (they were asked for).
        let deletes: DeleteQueue
        do {
            deletes = try DeleteQueue(
                journalPath: DeleteQueue.journalPath(
                    cacheDirectory: settings.cache.directory, endpoint: configuration.endpoint.absoluteString, namespace: configuration.namespace),
                source: api, catalog: catalog, logger: logger("mavifs.deletes"))
        } catch {
            await reader.shutdown()
            try? await api.shutdown()
            throw SettingsError("cannot open the delete journal: \(error)")
        }
        let endpoint = ClientOptions.displayEndpoint(configuration.endpoint.absoluteString)
        let publisher = StatusPublisher(
            identity: .init(
                mountpoint: mountpoint, endpoint: endpoint, namespace: configuration.namespace, allowDelete: settings.allowDelete,
                listTTLSeconds: settings.listTTL, cacheDirectory: settings.cache.directory, logFile: logFile),
            reader: reader, catalog: catalog, deletes: deletes, events: events, logger: log)

        let session: FUSESession
        let count: Int
        var firstRefresh: Task<Void, Never>?
        var warming: Task<Void, Never>?
        do {
            if let saved = catalog.restoredFrom, let stored = catalog.cached() {
                // Served at once from the store; the deletes wait for the first refresh to prove
                // the key and endpoint right.
                count = stored.videos.count
                log.info("\(count) videos in namespace \(configuration.namespace) as stored \(StatusCommand.seconds(max(0, Date().timeIntervalSince(saved)))) ago; refreshing from \(endpoint)")
                firstRefresh = Task { await Self.refreshThenStart(catalog, deletes, log: log, configuration: configuration) }
            } else {
                // A first listing before mounting: a wrong key or endpoint fails here, with its
                // reason, instead of leaving an empty folder behind.
                do {
                    count = try await catalog.list().shownCount
                } catch {
                    throw Self.listingFailed(error, configuration)
                }
                log.info("\(count) videos in namespace \(configuration.namespace) at \(endpoint)")
                // Only once the key and endpoint have proven right: a mount that fails to start sends nothing.
                deletes.start()
            }

            // Connections to the video origins are opened before the mount appears (for a
            // second at most): the first read, and a player's first jump, find them ready.
            // The first videos listed are enough to find the origins (a record is made of each).
            let firstVideos = { @Sendable in Array((catalog.cached()?.videos ?? VideoTable()).prefix(VideoReader.warmingScan)) }
            let firstWarming = await reader.warmConnections(for: firstVideos(), within: .seconds(1))
            warming = Task { await reader.keepConnectionsWarm(after: firstWarming, for: firstVideos) }

            if let metrics, let address = settings.metricsAddress {
                let sampler = LibraryMetrics(reader: reader, catalog: catalog, deletes: deletes)
                let url = try await metrics.start(at: address, refresh: sampler.refresh, logger: log)
                publisher.setMetricsURL(url)
                log.info("metrics at \(url)")
                if !address.isLoopback {
                    log.info("metrics are served beyond this machine (\(address)); they hold no key, but show the library's activity")
                }
            }

            let options = settings.options
            let fsOptions = MaviFSOptions(
                allowDelete: settings.allowDelete, listTTL: .seconds(settings.listTTL), uid: options.uid ?? getuid(),
                gid: options.gid ?? getgid(), umask: options.umask ?? 0o022,
                readTimeout: settings.deadlines.read, metadataTimeout: settings.deadlines.metadata,
                sidecarListingLimit: settings.sidecarListingLimit)
            let covers = CoverStore(directory: CoverStore.directory(cache: settings.cache.directory, namespace: configuration.namespace),
                                    source: api, logger: logger("mavifs.covers"))
            // Searches are kept as long as listings are.
            let search = SearchCatalog(source: api, ttl: .seconds(settings.listTTL), logger: logger("mavifs.search"))
            let subtitles = settings.subtitles ? SubtitleStore(
                directory: SubtitleStore.directory(cache: settings.cache.directory, namespace: configuration.namespace),
                source: api, logger: logger("mavifs.subtitles")) : nil
            let fs = MaviFileSystem(
                catalog: catalog, content: reader, covers: covers, deletes: settings.allowDelete ? deletes : nil, search: search,
                subtitles: subtitles, options: fsOptions, logger: logger("mavifs.fs"))
            let served: any FileSystemOperations = metrics == nil ? fs : MeteredFileSystem(fs)
            session = try FUSESession(
                mounting: served, at: mountpoint,
                // Reads are answered from the cache file by splice: the bytes go from the cache's page
                // cache to the kernel without a buffer in this process (a third of the CPU of a cold
                // read, two thirds of a warm one).
                options: MountOptions(fsName: "mavifs", subtype: "mavifs", readOnly: options.readOnly, allowOther: options.allowOther,
                                      defaultPermissions: options.allowOther, maxRead: 1 << 20, spliceReplies: true),
                logger: logger("mavifs.fuse"))
            fs.attach(session)
            if settings.thumbnails {
                fs.writeThumbnails(mountpoint: mountpoint, into: ThumbnailCache.ofCurrentUser())
                publisher.setThumbnailCounts { [fs] in fs.thumbnailCounts }
            }
            publisher.setFileNames { [fs] in fs.fileName(of: $0) }
        } catch {
            firstRefresh?.cancel()
            warming?.cancel()
            await metrics?.stop()
            await deletes.close()
            await reader.shutdown()
            try? await api.shutdown()
            throw error
        }
        session.unmountOnSignals()
        session.start()
        publisher.start()
        let releasing = Task.detached(priority: .background) { await MemoryArenas.releaseFreedMemory(every: .seconds(5)) }
        log.info("mounted at \(mountpoint)\(settings.allowDelete ? " (rm deletes videos)" : ""); status: mavifs status \(mountpoint)")
        ready?.succeed()
        notifier.ready(status: "mounted at \(mountpoint), \(count) videos")

        await session.waitUntilUnmounted()
        log.info("unmounted \(mountpoint)")
        warming?.cancel()
        releasing.cancel()
        notifier.stopping(status: "unmounted \(mountpoint); finishing downloads' records")
        firstRefresh?.cancel()
        await metrics?.stop()
        await catalog.persistNow()
        let left = await deletes.drain(within: Self.deleteDrainLimit)
        if left > 0 { log.notice("\(left) deletes wait for the next mount of this cache") }
        await reader.shutdown()
        await publisher.stop()
        try? await api.shutdown()
    }

    /// The first refresh of a listing served from the store, tried again every 15 s until it
    /// lands; then the deletes may go.
    static func refreshThenStart(_ catalog: VideoCatalog, _ deletes: DeleteQueue, log: Logger, configuration: ClientConfiguration) async {
        while !Task.isCancelled {
            do {
                let fresh = try await catalog.refreshed()
                log.info("listing refreshed: \(fresh.shownCount) videos")
                deletes.start()
                return
            } catch {
                if Task.isCancelled { return }
                log.error("\(listingFailed(error, configuration)); the stored listing is shown meanwhile")
                try? await Task.sleep(for: .seconds(15))
            }
        }
    }

    /// How long an unmount waits for pending deletes to reach the server; what is left is sent by
    /// the next mount.
    static let deleteDrainLimit: Duration = .seconds(10)

    /// The first listing failed: say so, with what to check.
    static func listingFailed(_ error: any Error, _ configuration: ClientConfiguration) -> SettingsError {
        let endpoint = ClientOptions.displayEndpoint(configuration.endpoint.absoluteString)
        // One line: a background mount passes its error to the terminal line by line.
        return SettingsError(
            "cannot list the videos of namespace \(configuration.namespace) at \(endpoint): \(error). "
                + "Check the endpoint and the key (\(APIKey.environmentVariable) or --api-key-file); -v logs every request.")
    }
}
