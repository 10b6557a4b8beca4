import Foundation
import Glibc
import Synchronization

/// The deletes a mount promised, on disk before `rm` returns, until the server has them.
///
/// An append-only file of records, each `length (u32 LE) · CRC-32 of the payload (u32 LE) ·
/// payload`. A payload is one letter and a JSON array of video numbers: `R` the deletes were
/// requested, `D` the server confirmed them, `F` the server refused them for good. What was
/// requested and neither confirmed nor refused is pending, in the order it was requested.
///
/// Every append is written with one `write` and made durable (`fdatasync`) before it returns. A
/// crash can only tear the last record; loading keeps the intact records before it and cuts the
/// file there. Once nothing is pending the file is emptied, and loading rewrites it with only what
/// is pending, so it never grows beyond the deletes still on their way.
///
/// Used by one process at a time (the one holding the cache directory's lock).
final class DeleteJournal: Sendable {
    enum Kind: UInt8 {
        case requested = 0x52  // R
        case confirmed = 0x44  // D
        case refused = 0x46    // F
    }

    struct Record: Equatable {
        var kind: Kind
        var videoNos: [String]
    }

    /// What loading found.
    struct Loaded {
        var pending: [String]
        /// Bytes after the last intact record (a record torn by a crash), cut off.
        var discardedBytes: Int
    }

    let path: String
    /// The open journal (-1 once closed); appends are whole records, one at a time.
    private let descriptor: Mutex<Int32>

    /// Opens (creating) the journal at `path`, reads what it holds and rewrites it with only
    /// what is pending.
    static func open(path: String) throws(DeleteJournalError) -> (DeleteJournal, Loaded) {
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .io(operation: "create \(directory)", errno: (error as NSError).code == 0 ? EIO : Int32((error as NSError).code))
        }
        let bytes = try Self.readAll(path)
        let (records, intact) = Self.decode(bytes)
        let pending = Self.pending(after: records)
        if intact < bytes.count {
            // Kept aside before the rewrite: only a torn tail is expected here, and anything
            // else should stay inspectable.
            try Self.write(bytes, to: path + ".damaged")
        }
        // Rewritten whole, then renamed over: a crash leaves the old file or the new one.
        let temporary = path + ".tmp"
        try Self.write(pending.isEmpty ? [] : Self.encode(Record(kind: .requested, videoNos: pending)), to: temporary)
        guard rename(temporary, path) == 0 else { throw .io(operation: "rename \(temporary)", errno: errno) }
        let dirfd = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd >= 0 {
            fsync(dirfd)
            Glibc.close(dirfd)
        }
        let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { throw .io(operation: "open \(path)", errno: errno) }
        return (DeleteJournal(path: path, descriptor: fd), Loaded(pending: pending, discardedBytes: bytes.count - intact))
    }

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = Mutex(descriptor)
    }

    deinit { close() }

    func close() {
        descriptor.withLock { descriptor in
            if descriptor >= 0 { Glibc.close(descriptor) }
            descriptor = -1
        }
    }

    /// Appends a record and makes it durable. Throws when it could not be: the record is then
    /// taken back out (nothing is promised, the caller must not act as if it were recorded).
    /// When even that fails, the journal closes, and every later append fails too, rather than
    /// leave a damaged record in front of the next ones.
    func append(_ record: Record) throws(DeleteJournalError) {
        let bytes = Self.encode(record)
        let result: Int32? = descriptor.withLock { descriptor in
            guard descriptor >= 0 else { return EBADF }
            let start = lseek(descriptor, 0, SEEK_END)
            guard start >= 0 else { return errno }
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            let failure: Int32? = written != bytes.count ? (written < 0 ? errno : EIO) : (fdatasync(descriptor) == 0 ? nil : errno)
            guard let failure else { return nil }
            if ftruncate(descriptor, start) != 0 || fdatasync(descriptor) != 0 {
                Glibc.close(descriptor)
                descriptor = -1
            }
            return failure
        }
        if let result { throw .io(operation: "append to \(path)", errno: result) }
    }

    /// Empties the journal: nothing is pending.
    func truncate() {
        descriptor.withLock { descriptor in
            guard descriptor >= 0 else { return }
            if ftruncate(descriptor, 0) == 0 { fdatasync(descriptor) }
        }
    }

    // MARK: - Format

    static func encode(_ record: Record) -> [UInt8] {
        var payload: [UInt8] = [record.kind.rawValue]
        payload += (try? JSONEncoder().encode(record.videoNos)).map { [UInt8]($0) } ?? [UInt8]("[]".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(payload.count + 8)
        bytes.appendLittleEndian(UInt32(payload.count))
        bytes.appendLittleEndian(CRC32.checksum(payload))
        bytes += payload
        return bytes
    }

    /// The intact records at the start of `bytes`, and how many bytes they take.
    static func decode(_ bytes: [UInt8]) -> (records: [Record], intact: Int) {
        var records: [Record] = []
        var offset = 0
        while bytes.count - offset >= 8 {
            let length = Int(bytes.littleEndian(UInt32.self, at: offset))
            let checksum = bytes.littleEndian(UInt32.self, at: offset + 4)
            guard length >= 1, length <= bytes.count - offset - 8 else { break }
            let payload = bytes[(offset + 8)..<(offset + 8 + length)]
            guard CRC32.checksum(payload) == checksum, let kind = Kind(rawValue: payload.first!),
                  let videoNos = try? JSONDecoder().decode([String].self, from: Data(payload.dropFirst())) else { break }
            records.append(Record(kind: kind, videoNos: videoNos))
            offset += 8 + length
        }
        return (records, offset)
    }

    /// What `records` leave pending, in the order requested (a number requested twice counts once).
    static func pending(after records: [Record]) -> [String] {
        var order: [String] = []
        var open = Set<String>()
        for record in records {
            switch record.kind {
            case .requested:
                for no in record.videoNos where open.insert(no).inserted { order.append(no) }
            case .confirmed, .refused:
                for no in record.videoNos { open.remove(no) }
            }
        }
        return order.filter { open.remove($0) != nil }
    }

    /// The file's bytes; none when it does not exist. Any other failure throws: a journal that
    /// cannot be read must not be taken for an empty one.
    private static func readAll(_ path: String) throws(DeleteJournalError) -> [UInt8] {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return [] }
            throw .io(operation: "open \(path)", errno: errno)
        }
        defer { Glibc.close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n == 0 { return bytes }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "read \(path)", errno: errno)
            }
            bytes += chunk[0..<n]
        }
    }

    private static func write(_ bytes: [UInt8], to path: String) throws(DeleteJournalError) {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(operation: "open \(path)", errno: errno) }
        defer { Glibc.close(fd) }
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw .io(operation: "write \(path)", errno: written < 0 ? errno : EIO) }
        guard fsync(fd) == 0 else { throw .io(operation: "fsync \(path)", errno: errno) }
    }
}

public enum DeleteJournalError: Error, Equatable, CustomStringConvertible {
    case io(operation: String, errno: Int32)

    public var description: String {
        switch self {
        case .io(let operation, let code): "\(operation): \(String(cString: strerror(code)))"
        }
    }
}
