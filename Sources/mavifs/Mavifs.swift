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

            Settings: $XDG_CONFIG_HOME/mavifs/config.toml (see `mavifs mount --help`).
            Shell completions: `mavifs --generate-completion-script bash|zsh|fish`.
            """,
        version: MavifsVersion.current,
        subcommands: [MountCommand.self, UnmountCommand.self, StatusCommand.self, ServeCommand.self, UploadCommand.self, CacheCommand.self]
    )

    /// Accepts mount(8)'s `mavifs SOURCE MOUNTPOINT -o OPTIONS` besides the subcommands, so an
    /// `/etc/fstab` line can mount a library.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let names = Set(configuration.subcommands.map { $0._commandName } + ["help"])
        await main(FstabInvocation.mountArguments(from: arguments, subcommands: names) ?? arguments)
    }
}

enum MavifsVersion {
    static let current = "0.1.0"
}
