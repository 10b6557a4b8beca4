import ArgumentParser
import FUSE

struct UnmountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unmount",
        abstract: "Unmount a mavifs folder (also cleans up a mount left by a process that died)."
    )

    @Argument(help: "The mount point.")
    var mountpoint: String

    func run() async throws {
        let path = MountPointCheck.absolute(mountpoint)
        guard Unmounter.isMountPoint(path) else {
            throw ValidationError("\(path) is not mounted")
        }
        Unmounter.detach(path)
        print("mavifs: unmounted \(path)")
    }
}
