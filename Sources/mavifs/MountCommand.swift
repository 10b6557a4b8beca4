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
            Runs in the background once the mount is ready (or fails with a message). Unmount with
            `mavifs unmount MOUNTPOINT` or `fusermount3 -u MOUNTPOINT`.

            Deleting is permanent, so `rm` deletes a video only with --allow-delete; without it rm
            fails with "Operation not permitted".
            """
    )

    @Argument(help: "An empty directory to mount on.")
    var mountpoint: String

    @OptionGroup var client: ClientOptions

    @Flag(help: "Let rm delete videos on the server (permanent).")
    var allowDelete = false

    @Option(help: ArgumentHelp("Seconds a listing is trusted before it is fetched again.", valueName: "seconds"))
    var listTTL: Int = 60

    @OptionGroup var cache: CacheOptions

    @Flag(name: [.short, .long], help: "Stay in the foreground, logging to stderr.")
    var foreground = false

    @Option(name: .customShort("o"), help: ArgumentHelp("Mount options: ro, allow_other, uid=N, gid=N, umask=NNN (comma-separated).", valueName: "options"))
    var mountOptions: [String] = []

    @Flag(name: .shortAndLong, help: "Log more.")
    var verbose = false

    @Option(help: .hidden)
    var readyFD: Int32?

    func validate() throws {
        guard listTTL >= 0 else { throw ValidationError("--list-ttl must be zero or more seconds") }
        _ = try ParsedMountOptions(mountOptions)
    }

    func run() async throws {
        let path = MountPointCheck.absolute(mountpoint)
        if Unmounter.isStale(path) {
            FileHandle.standardError.write(Data("mavifs: \(path) was left mounted by a process that is gone; cleaning it up\n".utf8))
            Unmounter.detach(path)
        }
        try MountPointCheck.validate(path)
        if !foreground {
            try Daemon.startInBackground(mountpoint: path)
            return
        }
        let ready = readyFD.map(ReadinessPipe.init(fd:))
        do {
            try await serve(at: path, ready: ready)
        } catch {
            ready?.fail("\(error)")
            throw error
        }
    }

    private func serve(at path: String, ready: ReadinessPipe?) async throws {
        let logger = MavifsLogging.logger("mavifs", verbose: verbose)
        let parsed = try ParsedMountOptions(mountOptions)
        let configuration = try client.makeConfiguration()
        let api = MaviClient(configuration: configuration, logger: MavifsLogging.logger("mavifs.client", verbose: verbose))
        let reader = try VideoReader(client: api, namespace: configuration.namespace, configuration: cache.makeConfiguration(),
                                     logger: MavifsLogging.logger("mavifs.cache", verbose: verbose))
        let catalog = VideoCatalog(source: api, ttl: .seconds(listTTL), logger: MavifsLogging.logger("mavifs.catalog", verbose: verbose))

        // A first listing before mounting: a wrong key or endpoint fails here, with its reason,
        // instead of leaving an empty folder behind.
        let first = try await catalog.list()
        logger.info("\(first.videos.count) videos in namespace \(configuration.namespace) at \(configuration.endpoint.absoluteString)")

        let fsOptions = MaviFSOptions(allowDelete: allowDelete, listTTL: .seconds(listTTL), uid: parsed.uid ?? getuid(),
                                      gid: parsed.gid ?? getgid(), umask: parsed.umask ?? 0o022)
        let fs = MaviFileSystem(catalog: catalog, content: reader, options: fsOptions, logger: MavifsLogging.logger("mavifs.fs", verbose: verbose))
        let session = try FUSESession(
            mounting: fs, at: path,
            // Reads are answered from the cache file by splice: the bytes go from the cache's page
            // cache to the kernel without a buffer in this process (a third of the CPU of a cold
            // read, two thirds of a warm one).
            options: MountOptions(fsName: "mavifs", subtype: "mavifs", readOnly: parsed.readOnly, allowOther: parsed.allowOther,
                                  defaultPermissions: parsed.allowOther, maxRead: 1 << 20, spliceReplies: true),
            logger: MavifsLogging.logger("mavifs.fuse", verbose: verbose))
        fs.attach(session)
        session.unmountOnSignals()
        session.start()
        logger.info("mounted at \(path)\(allowDelete ? " (rm deletes videos)" : "")")
        ready?.succeed()
        await session.waitUntilUnmounted()
        logger.info("unmounted \(path)")
        await reader.shutdown()
        try? await api.shutdown()
    }
}
