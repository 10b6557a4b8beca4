import Glibc
import NIOCore
import NIOPosix

/// An open sparse data file of the cache: the video's bytes at their own offsets, holes where
/// nothing is cached.
///
/// Reads and writes are short `pread`/`pwrite` calls on local disk and run where they are called;
/// `fdatasync` and hole punching may take long and belong on ``CacheIOThreads``.
/// The descriptor is closed when the last reference goes away, so a task that holds the object can
/// never read through a descriptor number that was closed and reused meanwhile.
final class CacheFile: Sendable {
    let path: String
    let descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    /// Opens the data file, creating it with its full length (as a hole) if needed. An existing
    /// file of another length is not the file the record describes, so it is refused.
    static func open(path: String, size: Int64, create: Bool) throws(VideoReadError) -> CacheFile {
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0)
        let fd = Glibc.open(path, flags, 0o600)
        guard fd >= 0 else { throw .cacheIO(operation: "open", errno: errno) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw .cacheIO(operation: "stat", errno: code)
        }
        if Int64(info.st_size) != size {
            guard create, info.st_size == 0, ftruncate(fd, off_t(size)) == 0 else {
                Glibc.close(fd)
                throw .cacheIO(operation: "size check", errno: EINVAL)
            }
        }
        return CacheFile(path: path, descriptor: fd)
    }

    /// Fills `count` bytes at `buffer` from `offset`; the whole range must lie inside the file.
    func read(into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int64) throws(VideoReadError) {
        var done = 0
        while done < count {
            let n = pread(descriptor, buffer + done, count - done, off_t(offset + Int64(done)))
            if n < 0 {
                if errno == EINTR { continue }
                throw .cacheIO(operation: "read", errno: errno)
            }
            // The file has its full length from creation, so a short read is damage.
            guard n > 0 else { throw .cacheIO(operation: "read", errno: EIO) }
            done += n
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(VideoReadError) {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let n = pwrite(descriptor, base + done, bytes.count - done, off_t(offset + Int64(done)))
            if n < 0 {
                if errno == EINTR { continue }
                throw .cacheIO(operation: "write", errno: errno)
            }
            done += n
        }
    }

    func write(_ buffer: ByteBuffer, at offset: Int64) throws(VideoReadError) {
        let result: Result<Void, VideoReadError> = buffer.withUnsafeReadableBytes { bytes in
            Result { () throws(VideoReadError) in try write(bytes, at: offset) }
        }
        try result.get()
    }

    /// Writes `buffers` one after the other from `offset`.
    func write(_ buffers: [ByteBuffer], at offset: Int64) throws(VideoReadError) {
        var position = offset
        for buffer in buffers {
            try write(buffer, at: position)
            position += Int64(buffer.readableBytes)
        }
    }

    /// Makes the bytes written so far durable, before a record that names them is written.
    func syncData() throws(VideoReadError) {
        guard fdatasync(descriptor) == 0 else { throw .cacheIO(operation: "fdatasync", errno: errno) }
    }

    /// Frees the disk space of `range` (reads then see zeros; the record no longer names it).
    func punchHole(_ range: Range<Int64>) throws(VideoReadError) {
        guard !range.isEmpty else { return }
        guard Fallocate.punchHole(descriptor, offset: range.lowerBound, length: Int64(range.count)) == 0 else {
            throw .cacheIO(operation: "punch hole", errno: errno)
        }
    }

    /// Disk space the file uses (its allocated blocks), for tests and statistics.
    func allocatedBytes() -> Int64 {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return 0 }
        return Int64(info.st_blocks) * 512
    }

    deinit { Glibc.close(descriptor) }
}

/// `fallocate(2)`, which Glibc's module does not export (it needs `_GNU_SOURCE`).
enum Fallocate {
    private typealias Function = @convention(c) (Int32, Int32, Int64, Int64) -> Int32
    private static let keepSize: Int32 = 0x01
    private static let punchHoleMode: Int32 = 0x02

    private static let function: Function? = {
        let symbol = dlsym(nil, "fallocate64") ?? dlsym(nil, "fallocate")
        return symbol.map { unsafeBitCast($0, to: Function.self) }
    }()

    static func punchHole(_ fd: Int32, offset: Int64, length: Int64) -> Int32 {
        guard let function else {
            errno = ENOSYS
            return -1
        }
        return function(fd, keepSize | punchHoleMode, offset, length)
    }
}

/// Threads of the cache's own for blocking file work (fsync, hole punching): never the Swift
/// concurrency pool, whose few threads must stay free to answer reads, nor NIO's shared
/// blocking pool, where a slow fsync would hold up whoever else reads files through it.
final class CacheIOThreads: Sendable {
    private let pool: NIOThreadPool

    init(threads: Int = 2) {
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
    }

    /// Runs `body` on the pool. It runs to its end even when the calling task is cancelled: a
    /// flush cut short would leave evictions unsettled.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(eventLoop: MultiThreadedEventLoopGroup.singleton.any(), body).get()
    }

    func shutdown() async {
        try? await pool.shutdownGracefully()
    }
}
