import Foundation
import Glibc
import Synchronization

/// Why a cache folder cannot be used.
public enum CacheDirectoryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Another mavifs process (or another reader in this one) holds the cache.
    case inUse(path: String)
    case cannotCreate(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .inUse(let path): "the cache \(path) is in use by another mavifs process"
        case .cannotCreate(let path, let code): "cannot create the cache folder \(path): \(String(cString: strerror(code)))"
        }
    }
}

/// An exclusive `flock` on the cache's lock file, held until released (or the object goes): two
/// processes writing the same cache files would corrupt each other's records.
final class CacheDirectoryLock: Sendable {
    /// The locked descriptor; `nil` once released.
    private let descriptor: Mutex<Int32?>
    /// Tries, a pause apart (microseconds), before the cache is said to be in use: a second.
    static let tries = 20
    static let pause: UInt32 = 50_000

    init(layout: CacheLayout) throws {
        try CacheFiles.makeDirectory(layout.root)
        let fd = open(layout.lockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CacheDirectoryError.cannotCreate(path: layout.lockFile, errno: errno) }
        // A lock just given back can still be held for a moment by a child another thread of
        // the process that held it was starting: the child shares the descriptor between fork
        // and exec (close-on-exec closes it only then). Another mount keeps it for good.
        var tries = 0
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            tries += 1
            guard errno == EWOULDBLOCK, tries < Self.tries else {
                close(fd)
                throw CacheDirectoryError.inUse(path: layout.root)
            }
            usleep(Self.pause)
        }
        descriptor = Mutex(fd)
    }

    /// Lets another reader (or process) open the cache. Closing the descriptor drops the lock.
    func release() {
        descriptor.withLock { fd in
            if let open = fd { close(open) }
            fd = nil
        }
    }

    deinit { release() }
}

/// File operations on records and folders.
enum CacheFiles {
    static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CacheDirectoryError.cannotCreate(path: path, errno: (error as NSError).code == 0 ? EIO : Int32((error as NSError).code))
        }
    }

    /// Replaces the record at `path` atomically: a crash leaves the old record or the new one,
    /// never a mix (and a torn file would fail its checksum anyway).
    static func writeRecord(_ record: BlockRecord, to path: String) throws(VideoReadError) {
        let temporary = path + CacheLayout.temporarySuffix
        let bytes = record.encoded()
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .cacheIO(operation: "record create", errno: errno) }
        var failure: Int32?
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                done += n
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = errno }
        close(fd)
        if let failure {
            unlink(temporary)
            throw .cacheIO(operation: "record write", errno: failure)
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw .cacheIO(operation: "record rename", errno: code)
        }
    }

    static func readRecord(at path: String) -> BlockRecord? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return BlockRecord(decoding: [UInt8](data))
    }

    /// Makes a rename in `directory` durable (before punching out blocks the old record named).
    static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    static func remove(_ path: String) {
        unlink(path)
    }

    static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    static func allocatedBytes(_ path: String) -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return Int64(info.st_blocks) * 512
    }

    static func modificationTime(_ path: String) -> Double {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) * 1e-9
    }
}

/// What a scan of the cache folder found: the files whose record is intact and agrees with
/// their data file.
struct CachedFileRecord {
    let key: CacheKey
    let geometry: BlockGeometry
    let present: BlockBitmap
    /// When the record was last written: the order of eviction across restarts.
    let lastUsed: Double
}

enum CacheScanner {
    /// Reads every record under `layout`. With `cleanUp`, removes what cannot be trusted or used:
    /// temporary records, records that fail their checksum or describe another block size or
    /// length, records whose data file is missing or has another length, records with no block,
    /// and data files without a record.
    static func scan(_ layout: CacheLayout, blockSize: Int?, cleanUp: Bool) -> [CachedFileRecord] {
        let fm = FileManager.default
        guard let namespaces = try? fm.contentsOfDirectory(atPath: layout.root) else { return [] }
        var found: [CachedFileRecord] = []
        for namespace in namespaces {
            let directory = (layout.root as NSString).appendingPathComponent(namespace)
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue,
                  let names = try? fm.contentsOfDirectory(atPath: directory) else { continue }
            var usedData = Set<String>()
            for name in names where name.hasSuffix(CacheLayout.recordSuffix) {
                let path = (directory as NSString).appendingPathComponent(name)
                let data = String(path.dropLast(CacheLayout.recordSuffix.count)) + CacheLayout.dataSuffix
                guard let key = layout.key(forRecordAt: path) else { continue }
                let record = CacheFiles.readRecord(at: path)
                let usable = record.map {
                    $0.geometry.fileSize == key.size && (blockSize == nil || $0.geometry.blockSize == blockSize)
                        && $0.present.setCount > 0 && CacheFiles.fileSize(data) == key.size
                } ?? false
                if usable, let record {
                    usedData.insert((data as NSString).lastPathComponent)
                    found.append(CachedFileRecord(
                        key: key, geometry: record.geometry, present: record.present, lastUsed: CacheFiles.modificationTime(path)))
                } else if cleanUp {
                    CacheFiles.remove(path)
                    CacheFiles.remove(data)
                }
            }
            guard cleanUp else { continue }
            for name in names where name.hasSuffix(CacheLayout.temporarySuffix) || name.hasSuffix(CacheLayout.dataSuffix) && !usedData.contains(name) {
                CacheFiles.remove((directory as NSString).appendingPathComponent(name))
            }
        }
        return found.sorted { $0.lastUsed < $1.lastUsed }
    }
}
