import ArgumentParser

@main
struct Mavifs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mavifs",
        abstract: "Mount a memories.ai video library as a folder.",
        discussion: """
            Browse videos by status, tag, camera and date in any file manager, play them in any
            player, and delete them with rm (when mounted with --allow-delete).

            Try it with no account: `mavifs serve --library DIR` runs a local library server that
            speaks the same API.
            """,
        version: MavifsVersion.current,
        subcommands: [MountCommand.self, UnmountCommand.self, ServeCommand.self, UploadCommand.self, CacheCommand.self]
    )
}

enum MavifsVersion {
    static let current = "0.1.0"
}
