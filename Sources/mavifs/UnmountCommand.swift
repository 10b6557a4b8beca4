import ArgumentParser
import FUSE
import Foundation

struct UnmountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unmount",
        abstract: "Unmount a mavifs folder (also cleans up a mount left by a process that died)."
    )

    @Argument(help: "The mount point.")
    var mountpoint: String

    func run() async throws {
        let path = MountPointCheck.canonical(mountpoint)
        guard Unmounter.isMountPoint(path) else {
            FileHandle.standardError.write(Data("mavifs: \(path) is not mounted; nothing to do\n".utf8))
            throw ExitCode.failure
        }
        Unmounter.detach(path)
        print("mavifs: unmounted \(path)")
    }
}
