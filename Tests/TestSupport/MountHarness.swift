import FUSE
import Foundation
import Logging

/// Mounts `fileSystem` in a fresh temporary directory, runs `body` with the mount point, and always
/// unmounts (with a bounded wait, aborting the connection if needed) and removes the directory,
/// whether `body` returns or throws.
public func withMount<T: Sendable>(
    _ fileSystem: any FileSystemOperations,
    options: MountOptions = MountOptions(fsName: "mavifs-test"),
    _ body: (String, FUSESession) async throws -> T
) async throws -> T {
    let dir = try TemporaryDirectory(prefix: "mavifs-mnt")
    defer { dir.remove() }
    var logger = Logger(label: "mavifs.test.fuse")
    logger.logLevel = ProcessInfo.processInfo.environment["MAVIFS_TEST_LOG"] == nil ? .warning : .debug
    let session = try FUSESession(mounting: fileSystem, at: dir.path, options: options, logger: logger)
    session.start()
    do {
        let result = try await body(dir.path, session)
        await session.unmount(timeout: 5)
        return result
    } catch {
        await session.unmount(timeout: 5)
        throw error
    }
}

/// True when `path` appears in this process's mount table.
public func isMounted(_ path: String) -> Bool {
    Unmounter.isMountPoint(path)
}
