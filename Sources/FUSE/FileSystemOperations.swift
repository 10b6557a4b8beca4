import Glibc

/// The operations a filesystem implements to be mounted with `FUSESession`.
///
/// Every request-answering operation is `async`: it may await I/O for as long as it needs without
/// holding any of the session's loop threads. Return a value to answer; throw `FUSEError` to fail
/// with its errno (any other error is answered with `EIO`, cancellation with `EINTR`). Each request
/// is answered exactly once, whatever the operation does.
///
/// Operations have default implementations: read-only queries fail with `ENOSYS`, mutations with
/// `EROFS`, so a read-only filesystem implements only what it serves. `forget`, `initialize` and
/// `destroy` are synchronous and must not block.
public protocol FileSystemOperations: AnyObject, Sendable {
    /// Called once when the kernel connects, before any request. Adjust the connection settings here.
    func initialize(_ connection: inout ConnectionSettings)
    /// Called once when the session ends.
    func destroy()

    func lookup(parent: Inode, name: String, context: RequestContext) async throws -> Entry
    /// The kernel drops `lookups` references to `inode` (from `lookup`, `readdirplus`, `create`…).
    func forget(inode: Inode, lookups: UInt64)
    func getattr(inode: Inode, context: RequestContext) async throws -> AttributesReply

    func opendir(inode: Inode, flags: Int32, context: RequestContext) async throws -> OpenReply
    /// Fills `buffer` with the entries of the directory that come at and after `offset` (0 is the
    /// first entry). When `buffer.isPlus`, entries should carry their full `Entry`.
    func readdir(inode: Inode, directory: OpenFile, offset: UInt64, into buffer: DirectoryBuffer, context: RequestContext) async throws
    func releasedir(inode: Inode, directory: OpenFile) async

    func open(inode: Inode, flags: Int32, context: RequestContext) async throws -> OpenReply
    func read(inode: Inode, file: OpenFile, offset: UInt64, size: Int, context: RequestContext) async throws -> ReadReply
    func release(inode: Inode, file: OpenFile) async

    /// Name prefixes of the extended attributes `getxattr` serves, or `nil` for any name. Other
    /// names are answered at once, without a round through `getxattr`: `ENODATA` in a namespace a
    /// prefix belongs to (`user.` for `user.mavi.`), `EOPNOTSUPP` in any other (`security.`,
    /// `system.`, `trusted.`). `ls -l` asks every file for `security.selinux` and the POSIX ACLs;
    /// told the filesystem does not support them, GNU ls stops asking for the rest of the device,
    /// where `ENODATA` would cost two round trips per file (20,000 for a folder of 10,000).
    var extendedAttributePrefixes: [String]? { get }
    func getxattr(inode: Inode, name: String, context: RequestContext) async throws -> [UInt8]
    func listxattr(inode: Inode, context: RequestContext) async throws -> [String]
    func setxattr(inode: Inode, name: String, value: [UInt8], flags: Int32, context: RequestContext) async throws
    func removexattr(inode: Inode, name: String, context: RequestContext) async throws

    func statfs(inode: Inode, context: RequestContext) async throws -> FileSystemStatistics

    func unlink(parent: Inode, name: String, context: RequestContext) async throws
    func rmdir(parent: Inode, name: String, context: RequestContext) async throws
    func mkdir(parent: Inode, name: String, mode: mode_t, context: RequestContext) async throws -> Entry
    func mknod(parent: Inode, name: String, mode: mode_t, context: RequestContext) async throws -> Entry
    func create(parent: Inode, name: String, mode: mode_t, flags: Int32, context: RequestContext) async throws -> (Entry, OpenReply)
    func rename(parent: Inode, name: String, newParent: Inode, newName: String, flags: UInt32, context: RequestContext) async throws
    func link(inode: Inode, newParent: Inode, newName: String, context: RequestContext) async throws -> Entry
    func symlink(target: String, parent: Inode, name: String, context: RequestContext) async throws -> Entry
    func readlink(inode: Inode, context: RequestContext) async throws -> String
    func write(inode: Inode, file: OpenFile, offset: UInt64, data: [UInt8], context: RequestContext) async throws -> Int
    /// `chmod`, `chown`, `truncate`, `utimes`. `changes` lists the fields to set.
    func setattr(inode: Inode, changes: AttributeChanges, file: OpenFile?, context: RequestContext) async throws -> AttributesReply
}

/// Fields a `setattr` request asks to change.
public struct AttributeChanges: Sendable, Equatable {
    public var mode: mode_t?
    public var uid: uid_t?
    public var gid: gid_t?
    public var size: UInt64?
    public var accessTime: Timestamp?
    public var modificationTime: Timestamp?

    public init(mode: mode_t? = nil, uid: uid_t? = nil, gid: gid_t? = nil, size: UInt64? = nil,
                accessTime: Timestamp? = nil, modificationTime: Timestamp? = nil) {
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.size = size
        self.accessTime = accessTime
        self.modificationTime = modificationTime
    }
}

extension FileSystemOperations {
    public func initialize(_ connection: inout ConnectionSettings) {}
    public func destroy() {}
    public func forget(inode: Inode, lookups: UInt64) {}

    public func lookup(parent: Inode, name: String, context: RequestContext) async throws -> Entry { throw FUSEError.notImplemented }
    public func getattr(inode: Inode, context: RequestContext) async throws -> AttributesReply { throw FUSEError.notImplemented }
    public func opendir(inode: Inode, flags: Int32, context: RequestContext) async throws -> OpenReply { OpenReply() }
    public func readdir(inode: Inode, directory: OpenFile, offset: UInt64, into buffer: DirectoryBuffer, context: RequestContext) async throws {
        throw FUSEError.notImplemented
    }
    public func releasedir(inode: Inode, directory: OpenFile) async {}
    public func open(inode: Inode, flags: Int32, context: RequestContext) async throws -> OpenReply { OpenReply() }
    public func read(inode: Inode, file: OpenFile, offset: UInt64, size: Int, context: RequestContext) async throws -> ReadReply {
        throw FUSEError.notImplemented
    }
    public func release(inode: Inode, file: OpenFile) async {}
    public var extendedAttributePrefixes: [String]? { nil }
    public func getxattr(inode: Inode, name: String, context: RequestContext) async throws -> [UInt8] { throw FUSEError.noAttribute }
    public func listxattr(inode: Inode, context: RequestContext) async throws -> [String] { [] }
    public func setxattr(inode: Inode, name: String, value: [UInt8], flags: Int32, context: RequestContext) async throws {
        throw FUSEError.notSupported
    }
    public func removexattr(inode: Inode, name: String, context: RequestContext) async throws { throw FUSEError.notSupported }
    public func statfs(inode: Inode, context: RequestContext) async throws -> FileSystemStatistics { FileSystemStatistics() }

    public func unlink(parent: Inode, name: String, context: RequestContext) async throws { throw FUSEError.readOnly }
    public func rmdir(parent: Inode, name: String, context: RequestContext) async throws { throw FUSEError.readOnly }
    public func mkdir(parent: Inode, name: String, mode: mode_t, context: RequestContext) async throws -> Entry { throw FUSEError.readOnly }
    public func mknod(parent: Inode, name: String, mode: mode_t, context: RequestContext) async throws -> Entry { throw FUSEError.readOnly }
    public func create(parent: Inode, name: String, mode: mode_t, flags: Int32, context: RequestContext) async throws -> (Entry, OpenReply) {
        throw FUSEError.readOnly
    }
    public func rename(parent: Inode, name: String, newParent: Inode, newName: String, flags: UInt32, context: RequestContext) async throws {
        throw FUSEError.readOnly
    }
    public func link(inode: Inode, newParent: Inode, newName: String, context: RequestContext) async throws -> Entry { throw FUSEError.readOnly }
    public func symlink(target: String, parent: Inode, name: String, context: RequestContext) async throws -> Entry { throw FUSEError.readOnly }
    public func readlink(inode: Inode, context: RequestContext) async throws -> String { throw FUSEError.invalid }
    public func write(inode: Inode, file: OpenFile, offset: UInt64, data: [UInt8], context: RequestContext) async throws -> Int {
        throw FUSEError.readOnly
    }
    public func setattr(inode: Inode, changes: AttributeChanges, file: OpenFile?, context: RequestContext) async throws -> AttributesReply {
        throw FUSEError.readOnly
    }
}
