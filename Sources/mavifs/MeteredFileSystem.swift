import CoreMetrics
import FUSE
import Glibc

/// Counts every operation the kernel asks of a filesystem, by operation and by the errno it was
/// answered with (`mavifs_fs_operations_total{operation,result}`), and times it
/// (`mavifs_fs_operation_seconds{operation}`), then passes it on unchanged. Used only when metrics
/// are served, so a mount without them answers straight from the filesystem.
///
/// Forwards every operation of `FileSystemOperations`, so the filesystem's own answers (and
/// defaults) are what the kernel gets.
final class MeteredFileSystem: FileSystemOperations, Sendable {
    let inner: any FileSystemOperations

    init(_ inner: any FileSystemOperations) {
        self.inner = inner
    }

    /// Forwarded, so attributes the filesystem does not serve are still answered without a round trip.
    var extendedAttributePrefixes: [String]? { inner.extendedAttributePrefixes }

    private func measure<T>(_ operation: String, _ body: () async throws -> T) async throws -> T {
        let started = ContinuousClock.now
        do {
            let value = try await body()
            record(operation, result: "ok", since: started)
            return value
        } catch {
            record(operation, result: Self.errnoName(Self.errno(for: error)), since: started)
            throw error
        }
    }

    private func record(_ operation: String, result: String, since started: ContinuousClock.Instant) {
        let (seconds, attoseconds) = (ContinuousClock.now - started).components
        Counter(label: "mavifs_fs_operations_total", dimensions: [("operation", operation), ("result", result)]).increment()
        Timer(label: "mavifs_fs_operation_seconds", dimensions: [("operation", operation)])
            .recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// The errno the FUSE binding answers for `error` (the same rule as its own).
    static func errno(for error: any Error) -> Int32 {
        switch error {
        case let e as FUSEError: e.errno
        case is CancellationError: EINTR
        case let e as any ErrnoConvertible: e.fuseErrno
        default: EIO
        }
    }

    static func errnoName(_ code: Int32) -> String {
        let names: [Int32: String] = [
            EPERM: "EPERM", ENOENT: "ENOENT", EINTR: "EINTR", EIO: "EIO", EBADF: "EBADF", EACCES: "EACCES", EBUSY: "EBUSY",
            EEXIST: "EEXIST", EXDEV: "EXDEV", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR", EINVAL: "EINVAL", ENOSPC: "ENOSPC",
            EROFS: "EROFS", ERANGE: "ERANGE", ENAMETOOLONG: "ENAMETOOLONG", ENOSYS: "ENOSYS", ENOTEMPTY: "ENOTEMPTY",
            ENODATA: "ENODATA", ENOTSUP: "ENOTSUP", ETIMEDOUT: "ETIMEDOUT",
        ]
        return names[code] ?? "E\(code)"
    }

    // MARK: Forwarded operations

    func initialize(_ connection: inout ConnectionSettings) { inner.initialize(&connection) }
    func destroy() { inner.destroy() }
    func forget(inode: Inode, lookups: UInt64) { inner.forget(inode: inode, lookups: lookups) }

    func lookup(parent: Inode, name: String, context: RequestContext) async throws -> Entry {
        try await measure("lookup") { try await inner.lookup(parent: parent, name: name, context: context) }
    }
    func getattr(inode: Inode, context: RequestContext) async throws -> AttributesReply {
        try await measure("getattr") { try await inner.getattr(inode: inode, context: context) }
    }
    func opendir(inode: Inode, flags: Int32, context: RequestContext) async throws -> OpenReply {
        try await measure("opendir") { try await inner.opendir(inode: inode, flags: flags, context: context) }
    }
    func readdir(inode: Inode, directory: OpenFile, offset: UInt64, into buffer: DirectoryBuffer, context: RequestContext) async throws {
        try await measure("readdir") { try await inner.readdir(inode: inode, directory: directory, offset: offset, into: buffer, context: context) }
    }
    func releasedir(inode: Inode, directory: OpenFile) async {
        await inner.releasedir(inode: inode, directory: directory)
    }
    func open(inode: Inode, flags: Int32, context: RequestContext) async throws -> OpenReply {
        try await measure("open") { try await inner.open(inode: inode, flags: flags, context: context) }
    }
    func read(inode: Inode, file: OpenFile, offset: UInt64, size: Int, context: RequestContext) async throws -> ReadReply {
        try await measure("read") { try await inner.read(inode: inode, file: file, offset: offset, size: size, context: context) }
    }
    func release(inode: Inode, file: OpenFile) async {
        await inner.release(inode: inode, file: file)
    }
    func getxattr(inode: Inode, name: String, context: RequestContext) async throws -> [UInt8] {
        try await measure("getxattr") { try await inner.getxattr(inode: inode, name: name, context: context) }
    }
    func listxattr(inode: Inode, context: RequestContext) async throws -> [String] {
        try await measure("listxattr") { try await inner.listxattr(inode: inode, context: context) }
    }
    func setxattr(inode: Inode, name: String, value: [UInt8], flags: Int32, context: RequestContext) async throws {
        try await measure("setxattr") { try await inner.setxattr(inode: inode, name: name, value: value, flags: flags, context: context) }
    }
    func removexattr(inode: Inode, name: String, context: RequestContext) async throws {
        try await measure("removexattr") { try await inner.removexattr(inode: inode, name: name, context: context) }
    }
    func statfs(inode: Inode, context: RequestContext) async throws -> FileSystemStatistics {
        try await measure("statfs") { try await inner.statfs(inode: inode, context: context) }
    }
    func unlink(parent: Inode, name: String, context: RequestContext) async throws {
        try await measure("unlink") { try await inner.unlink(parent: parent, name: name, context: context) }
    }
    func rmdir(parent: Inode, name: String, context: RequestContext) async throws {
        try await measure("rmdir") { try await inner.rmdir(parent: parent, name: name, context: context) }
    }
    func mkdir(parent: Inode, name: String, mode: mode_t, context: RequestContext) async throws -> Entry {
        try await measure("mkdir") { try await inner.mkdir(parent: parent, name: name, mode: mode, context: context) }
    }
    func mknod(parent: Inode, name: String, mode: mode_t, context: RequestContext) async throws -> Entry {
        try await measure("mknod") { try await inner.mknod(parent: parent, name: name, mode: mode, context: context) }
    }
    func create(parent: Inode, name: String, mode: mode_t, flags: Int32, context: RequestContext) async throws -> (Entry, OpenReply) {
        try await measure("create") { try await inner.create(parent: parent, name: name, mode: mode, flags: flags, context: context) }
    }
    func rename(parent: Inode, name: String, newParent: Inode, newName: String, flags: UInt32, context: RequestContext) async throws {
        try await measure("rename") {
            try await inner.rename(parent: parent, name: name, newParent: newParent, newName: newName, flags: flags, context: context)
        }
    }
    func link(inode: Inode, newParent: Inode, newName: String, context: RequestContext) async throws -> Entry {
        try await measure("link") { try await inner.link(inode: inode, newParent: newParent, newName: newName, context: context) }
    }
    func symlink(target: String, parent: Inode, name: String, context: RequestContext) async throws -> Entry {
        try await measure("symlink") { try await inner.symlink(target: target, parent: parent, name: name, context: context) }
    }
    func readlink(inode: Inode, context: RequestContext) async throws -> String {
        try await measure("readlink") { try await inner.readlink(inode: inode, context: context) }
    }
    func write(inode: Inode, file: OpenFile, offset: UInt64, data: [UInt8], context: RequestContext) async throws -> Int {
        try await measure("write") { try await inner.write(inode: inode, file: file, offset: offset, data: data, context: context) }
    }
    func setattr(inode: Inode, changes: AttributeChanges, file: OpenFile?, context: RequestContext) async throws -> AttributesReply {
        try await measure("setattr") { try await inner.setattr(inode: inode, changes: changes, file: file, context: context) }
    }
}
