import FUSE
import Foundation
import Glibc
import Synchronization

/// A small filesystem held in memory, built on the FUSE module alone, to test the binding through
/// the kernel. Files have generated contents (so a 1 GiB file costs no memory), one file's reads
/// can be held back until the test releases them, and it records what reached it.
final class MemoryFileSystem: FileSystemOperations, Sendable {
    struct Node: Sendable {
        var inode: Inode
        var name: String
        var parent: Inode
        var kind: FileKind
        var size: UInt64
        var content: Content
        var xattrs: [String: [UInt8]] = [:]
        var protected = false
    }

    enum Content: Sendable {
        case none
        /// Byte `i` is `Pattern.byte(i, seed)`.
        case generated(seed: UInt8)
        /// Reads wait until `releaseSlowReads()`.
        case slow(seed: UInt8)
        /// Served by handing the kernel a range of this file's descriptor.
        case backingFile(path: String)
    }

    struct Events: Sendable {
        var unlinked: [String] = []
        var cancelledReads = 0
        var reads = 0
        var opens = 0
        var releases = 0
        var forgets: UInt64 = 0
        var getxattrNames: [String] = []
        /// File range replies returned, and those whose sending was reported.
        var rangeReplies = 0
        var rangesSent = 0
    }

    let directIO: Bool
    let timeout: Double
    let extendedAttributePrefixes: [String]?

    private let nodes = Mutex<[Inode: Node]>([:])
    private let nextInode = Mutex<Inode>(2)
    private let gate = Gate()
    let events = Mutex(Events())

    init(directIO: Bool = false, timeout: Double = 1, extendedAttributePrefixes: [String]? = nil) {
        self.directIO = directIO
        self.timeout = timeout
        self.extendedAttributePrefixes = extendedAttributePrefixes
        nodes.withLock {
            $0[rootInode] = Node(inode: rootInode, name: "", parent: rootInode, kind: .directory, size: 0, content: .none)
        }
    }

    @discardableResult
    func addFile(_ name: String, in parent: Inode = rootInode, size: UInt64, content: Content) -> Inode {
        let ino = nextInode.withLock { n in defer { n += 1 }; return n }
        nodes.withLock { $0[ino] = Node(inode: ino, name: name, parent: parent, kind: .regular, size: size, content: content) }
        return ino
    }

    @discardableResult
    func addDirectory(_ name: String, in parent: Inode = rootInode) -> Inode {
        let ino = nextInode.withLock { n in defer { n += 1 }; return n }
        nodes.withLock { $0[ino] = Node(inode: ino, name: name, parent: parent, kind: .directory, size: 0, content: .none) }
        return ino
    }

    func update(_ inode: Inode, _ change: (inout Node) -> Void) {
        nodes.withLock { if var n = $0[inode] { change(&n); $0[inode] = n } }
    }

    func remove(_ inode: Inode) {
        _ = nodes.withLock { $0.removeValue(forKey: inode) }
    }

    func releaseSlowReads() { gate.open() }

    private func node(_ inode: Inode) throws -> Node {
        guard let n = nodes.withLock({ $0[inode] }) else { throw FUSEError.notFound }
        return n
    }

    private func attributes(_ n: Node) -> FileAttributes {
        FileAttributes(
            inode: n.inode, kind: n.kind, permissions: n.kind == .directory ? 0o755 : 0o644, size: n.size,
            linkCount: n.kind == .directory ? 2 : 1, modificationTime: Timestamp(seconds: 1_700_000_000 + Int(n.inode)))
    }

    private func entry(_ n: Node) -> Entry {
        Entry(attributes: attributes(n), entryTimeout: timeout, attributeTimeout: timeout)
    }

    private func children(of parent: Inode) -> [Node] {
        nodes.withLock { $0.values.filter { $0.parent == parent && $0.inode != rootInode } }.sorted { $0.name < $1.name }
    }

    // MARK: FileSystemOperations

    func lookup(parent: Inode, name: String, context: RequestContext) async throws -> Entry {
        guard let n = children(of: parent).first(where: { $0.name == name }) else { throw FUSEError.notFound }
        return entry(n)
    }

    func forget(inode: Inode, lookups: UInt64) {
        events.withLock { $0.forgets += lookups }
    }

    func getattr(inode: Inode, context: RequestContext) async throws -> AttributesReply {
        AttributesReply(attributes: attributes(try node(inode)), timeout: timeout)
    }

    func readdir(inode: Inode, directory: OpenFile, offset: UInt64, into buffer: DirectoryBuffer, context: RequestContext) async throws {
        let dir = try node(inode)
        guard dir.kind == .directory else { throw FUSEError.notADirectory }
        // Offsets: 1 = after ".", 2 = after "..", 2 + k = after the k-th child.
        var all: [(String, Entry?, Inode, FileKind)] = [(".", nil, inode, .directory), ("..", nil, dir.parent, .directory)]
        all += children(of: inode).map { ($0.name, entry($0), $0.inode, $0.kind) }
        for (index, item) in all.enumerated().dropFirst(Int(offset)) {
            let next = UInt64(index + 1)
            let added = if let e = item.1 {
                buffer.add(name: item.0, entry: e, nextOffset: next)
            } else {
                buffer.add(name: item.0, inode: item.2, kind: item.3, nextOffset: next)
            }
            if !added { break }
        }
    }

    func open(inode: Inode, flags: Int32, context: RequestContext) async throws -> OpenReply {
        let n = try node(inode)
        guard n.kind == .regular else { throw FUSEError.isADirectory }
        guard flags & O_ACCMODE == O_RDONLY else { throw FUSEError.accessDenied }
        events.withLock { $0.opens += 1 }
        if case .backingFile(let path) = n.content {
            let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw FUSEError.ioError }
            return OpenReply(handle: UInt64(fd), directIO: directIO)
        }
        return OpenReply(handle: 0, directIO: directIO)
    }

    func read(inode: Inode, file: OpenFile, offset: UInt64, size: Int, context: RequestContext) async throws -> ReadReply {
        let n = try node(inode)
        events.withLock { $0.reads += 1 }
        guard offset < n.size else { return .endOfFile }
        let count = Int(min(UInt64(size), n.size - offset))
        switch n.content {
        case .generated(let seed):
            return .bytes(Pattern.bytes(offset: offset, count: count, seed: seed))
        case .slow(let seed):
            do {
                try await gate.wait()
            } catch {
                events.withLock { $0.cancelledReads += 1 }
                throw error
            }
            return .bytes(Pattern.bytes(offset: offset, count: count, seed: seed))
        case .backingFile:
            events.withLock { $0.rangeReplies += 1 }
            return .fileRangeUntilSent(descriptor: Int32(file.handle), offset: Int64(offset), length: count) { [self] in
                self.events.withLock { $0.rangesSent += 1 }
            }
        case .none:
            throw FUSEError.isADirectory
        }
    }

    func release(inode: Inode, file: OpenFile) async {
        events.withLock { $0.releases += 1 }
        if let n = try? node(inode), case .backingFile = n.content {
            close(Int32(file.handle))
        }
    }

    func getxattr(inode: Inode, name: String, context: RequestContext) async throws -> [UInt8] {
        events.withLock { $0.getxattrNames.append(name) }
        guard let v = try node(inode).xattrs[name] else { throw FUSEError.noAttribute }
        return v
    }

    func listxattr(inode: Inode, context: RequestContext) async throws -> [String] {
        try node(inode).xattrs.keys.sorted()
    }

    func setxattr(inode: Inode, name: String, value: [UInt8], flags: Int32, context: RequestContext) async throws {
        _ = try node(inode)
        update(inode) { $0.xattrs[name] = value }
    }

    func removexattr(inode: Inode, name: String, context: RequestContext) async throws {
        guard try node(inode).xattrs[name] != nil else { throw FUSEError.noAttribute }
        update(inode) { $0.xattrs[name] = nil }
    }

    func statfs(inode: Inode, context: RequestContext) async throws -> FileSystemStatistics {
        let total = nodes.withLock { $0.values.reduce(UInt64(0)) { $0 + $1.size } }
        return FileSystemStatistics(blockSize: 4096, totalBlocks: (total + 4095) / 4096, totalFiles: UInt64(nodes.withLock { $0.count }))
    }

    func unlink(parent: Inode, name: String, context: RequestContext) async throws {
        guard let n = children(of: parent).first(where: { $0.name == name }) else { throw FUSEError.notFound }
        guard !n.protected else { throw FUSEError.notPermitted }
        guard n.kind == .regular else { throw FUSEError.isADirectory }
        remove(n.inode)
        events.withLock { $0.unlinked.append(name) }
    }
}

/// Deterministic file contents: byte `i` of a file with seed `s` is `table[(i + s * 7919) % period]`.
/// Copying from a table keeps generation at memcpy speed (throughput tests read 1 GiB), and the
/// period is not a power of two, so a block served at the wrong offset does not match.
enum Pattern {
    static let period = (1 << 20) + 4093
    static let table: [UInt8] = {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<period).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }()

    static func byte(_ i: UInt64, seed: UInt8) -> UInt8 {
        table[Int((i + UInt64(seed) * 7919) % UInt64(period))]
    }

    static func bytes(offset: UInt64, count: Int, seed: UInt8) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buf, initialized in
            table.withUnsafeBufferPointer { t in
                var start = Int((offset + UInt64(seed) * 7919) % UInt64(period))
                var done = 0
                while done < count {
                    let n = min(count - done, period - start)
                    UnsafeMutableRawPointer(buf.baseAddress! + done).copyMemory(from: t.baseAddress! + start, byteCount: n)
                    done += n
                    start = 0
                }
            }
            initialized = count
        }
    }
}

/// Holds waiters until opened; a cancelled waiter leaves with `CancellationError`.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [UUID: CheckedContinuation<Void, any Error>])>((false, [:]))

    func open() {
        let waiters = state.withLock { s in
            s.open = true
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        waiters.forEach { $0.resume() }
    }

    func wait() async throws {
        let id = UUID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let resumeNow: Result<Void, any Error>? = state.withLock { s in
                    if s.open { return .success(()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    s.waiters[id] = c
                    return nil
                }
                if let r = resumeNow { c.resume(with: r) }
            }
        } onCancel: {
            let c = state.withLock { $0.waiters.removeValue(forKey: id) }
            c?.resume(throwing: CancellationError())
        }
    }
}
