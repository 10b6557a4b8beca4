import ArgumentParser
import FUSE
import Foundation
import Glibc
import Logging
import MaviClient
import MaviFS
import MaviLibrary

struct MountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mount",
        abstract: "Mount a video library as a folder.",
        discussion: """
            Checks the endpoint and key with a first listing, mounts, and then runs in the \
            background (logs in $XDG_STATE_HOME/mavifs/mount.log). Unmount with \
            `mavifs unmount MOUNTPOINT` or `fusermount3 -u MOUNTPOINT`; `mavifs status` shows how \
            a mount is doing.

            Every option can also be set in the settings file, $XDG_CONFIG_HOME/mavifs/config.toml \
            (~/.config/mavifs/config.toml): each long option is a key, with underscores \
            (list_ttl = 30), and a [mounts."/path"] table holds settings for one mount point. Flags \
            win over the file; --dry-run shows where each setting came from.

            Deleting is permanent, so `rm` deletes a video only with --allow-delete; without it rm \
            fails with "Operation not permitted".

            Under systemd (Type=notify, $NOTIFY_SOCKET set) the mount stays in the foreground and \
            reports READY=1 once the folder is usable.
            """
    )

    @Argument(help: "An empty directory to mount on.")
    var mountpoint: String

    @OptionGroup var client: ClientOptions

    @Flag(inversion: .prefixedNo, help: "Let rm delete videos on the server (permanent). Default: off.")
    var allowDelete: Bool?

    @Flag(inversion: .prefixedNo, help: """
        Write thumbnails of the videos of each folder listed, from their cover frames, into the thumbnail cache ($XDG_CACHE_HOME/thumbnails), so file managers read no video to show them. Default: on.
        """)
    var thumbnails: Bool?

    @Flag(inversion: .prefixedNo, help: """
        Show NAME.srt (speech) and NAME.captions.srt beside each processed video, fetched when first opened. A folder then lists         twice the entries: very large libraries may turn this off. Default: on.
        """)
    var subtitles: Bool?

    @Option(help: ArgumentHelp("""
        A folder of more videos than this lists no subtitle sidecars (they still open by name): in all/ of a very large library they would double what ls -l and file managers go through. Default: 50000.
        """, valueName: "videos"))
    var sidecarListingLimit: Int?

    @Option(help: ArgumentHelp("Seconds a listing is trusted before it is fetched again. Default: 60.", valueName: "seconds"))
    var listTTL: Int?

    @OptionGroup var cache: CacheOptions

    @OptionGroup var deadlines: DeadlineOptions

    @Option(help: ArgumentHelp(
        "Serve Prometheus metrics at http://HOST:PORT/metrics (port 0 picks a free one; mavifs status shows it).",
        valueName: "host:port"))
    var metricsAddr: MetricsAddress?

    @Option(name: .customShort("o"), help: ArgumentHelp("Mount options: ro, allow_other, uid=N, gid=N, umask=NNN (comma-separated).", valueName: "options"))
    var mountOptions: [String] = []

    @Flag(name: [.short, .long], help: "Stay in the foreground, logging to stderr.")
    var foreground = false

    @Flag(name: .shortAndLong, help: "Log more: every request, download and cache decision.")
    var verbose = false

    @Flag(help: "Check everything (settings, key, endpoint, first listing) and print the settings with where each came from; do not mount.")
    var dryRun = false

    @OptionGroup var config: ConfigOption

    @Option(help: .hidden)
    var readyFD: Int32?

    func validate() throws {
        if let listTTL, listTTL < 0 { throw ValidationError("--list-ttl must be zero or more seconds") }
        if let sidecarListingLimit, sidecarListingLimit < 0 { throw ValidationError("--sidecar-listing-limit must be zero or more videos") }
        _ = try ParsedMountOptions(mountOptions)
    }

    func run() async throws {
        let path = MountPointCheck.canonical(mountpoint)
        // Settings are checked here, before going to the background, so that a mistake is
        // reported on the terminal and not only in the log.
        let settings = try resolveSettings(mountpoint: path)
        if dryRun {
            try await checkOnly(path, settings)
            return
        }
        if Unmounter.isStale(path) {
            FileHandle.standardError.write(Data("mavifs: \(path) was left mounted by a process that is gone; cleaning it up\n".utf8))
            Unmounter.detach(path)
        }
        try MountPointCheck.validate(path)
        // A service manager supervises the process it started: forking away would look like an exit.
        if !foreground && !ServiceNotifier().isSupervised {
            try Daemon.startInBackground(mountpoint: path)
            return
        }
        MemoryArenas.limit()
        let ready = readyFD.map(ReadinessPipe.init(fd:))
        do {
            try await MountService(mountpoint: path, settings: settings, logFile: ready == nil ? nil : MavifsLogging.backgroundLogPath())
                .run(ready: ready)
        } catch {
            ready?.fail("\(error)")
            throw error
        }
    }

    /// Every setting from flags, the settings file and defaults, in that order of precedence.
    func resolveSettings(mountpoint: String) throws -> MountSettings {
        let file = try config.load()
        let values = file.settings(forMountpoint: mountpoint)
        var report = SettingsReport()
        if let path = file.path { report.note("config", path, origin: config.path == nil ? "default location" : "--config") }
        var clientConfiguration = try client.makeConfiguration(config: values, report: &report)
        let allowDelete = try report.pick(
            "allow_delete", flag: allowDelete, flagName: allowDelete == false ? "--no-allow-delete" : nil, config: values, read: values.bool,
            default: false)
        let thumbnails = try report.pick(
            "thumbnails", flag: thumbnails, flagName: thumbnails == false ? "--no-thumbnails" : nil, config: values, read: values.bool,
            default: true)
        let subtitles = try report.pick(
            "subtitles", flag: subtitles, flagName: subtitles == false ? "--no-subtitles" : nil, config: values, read: values.bool,
            default: true)
        let sidecarListingLimit = try report.pick(
            "sidecar_listing_limit", flag: sidecarListingLimit, config: values, read: values.int, default: MaviFSOptions.defaultSidecarListingLimit)
        guard sidecarListingLimit >= 0 else {
            throw SettingsError("sidecar_listing_limit (\(values.origin("sidecar_listing_limit") ?? "--sidecar-listing-limit")) must be zero or more videos")
        }
        let listTTL = try report.pick("list_ttl", flag: listTTL, config: values, read: values.int, default: 60)
        guard listTTL >= 0 else { throw SettingsError("list_ttl (\(values.origin("list_ttl") ?? "--list-ttl")) must be zero or more seconds") }
        var cacheConfiguration = try cache.makeConfiguration(config: values, report: &report)
        // Every ranged request its own connection, and a few more for the API and warm spares.
        clientConfiguration.connectionsPerHost = max(clientConfiguration.connectionsPerHost, cacheConfiguration.maxConcurrentRangeFetches + 4)
        let metricsAddress = try report.pickOptional("metrics_addr", flag: metricsAddr, config: values, read: { key in
            try values.string(key).map { text in
                guard let address = MetricsAddress(argument: text) else {
                    throw SettingsError("\(values.origin(key) ?? "config"): metrics_addr must be HOST:PORT, such as 127.0.0.1:9464")
                }
                return address
            }
        }, none: "off")
        let fileOptions = try values.list("options") ?? []
        let optionList = fileOptions + mountOptions
        let parsedOptions: ParsedMountOptions
        do {
            parsedOptions = try ParsedMountOptions(optionList)
        } catch let error as ValidationError {
            throw SettingsError("\(error.message)\(fileOptions.isEmpty ? "" : " (options in \(values.origin("options") ?? "the config file"))")")
        }
        report.note("options", optionList.isEmpty ? "none" : optionList.joined(separator: ","),
                    origin: mountOptions.isEmpty ? (fileOptions.isEmpty ? "default" : values.origin("options") ?? "config") : "-o")
        let readTimeout = try report.pick("read_timeout", flag: deadlines.readTimeout, config: values,
                                          read: { try values.int($0).map(Double.init) }, default: DeadlineOptions.defaultRead)
        let metadataTimeout = try report.pick("metadata_timeout", flag: deadlines.metadataTimeout, config: values,
                                              read: { try values.int($0).map(Double.init) }, default: DeadlineOptions.defaultMetadata)
        do {
            try DeadlineOptions.check(readTimeout, "read_timeout")
            try DeadlineOptions.check(metadataTimeout, "metadata_timeout")
        } catch let error as ValidationError {
            throw SettingsError(error.message)
        }
        let deadlines = MountDeadlines(readSeconds: readTimeout, metadataSeconds: metadataTimeout)
        clientConfiguration.timeouts = deadlines.clientTimeouts(clientConfiguration.timeouts)
        cacheConfiguration.readTimeout = deadlines.read
        let verbose = try report.pick("verbose", flag: verbose ? true : nil, config: values, read: values.bool, default: false)
        return MountSettings(
            client: clientConfiguration, cache: cacheConfiguration, allowDelete: allowDelete, thumbnails: thumbnails, subtitles: subtitles,
            sidecarListingLimit: sidecarListingLimit, listTTL: listTTL, options: parsedOptions,
            metricsAddress: metricsAddress, deadlines: deadlines, verbose: verbose, report: report)
    }

    /// `--dry-run`: everything a mount checks before mounting, then the settings.
    private func checkOnly(_ path: String, _ settings: MountSettings) async throws {
        try MountPointCheck.validate(path)
        print("mavifs mount \(path) would use:")
        print(settings.report.text)
        let configuration = settings.client
        var logger = Logger(label: "mavifs.client") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = settings.verbose ? .debug : .warning
        let count = try await MaviClient.withClient(configuration: configuration, logger: logger) { api in
            do {
                return try await api.allVideos(filter: VideoFilter()).count
            } catch {
                throw MountService.listingFailed(error, configuration)
            }
        }
        print("\(count) videos in namespace \(configuration.namespace) at \(ClientOptions.displayEndpoint(configuration.endpoint.absoluteString)); nothing mounted (--dry-run)")
    }
}
