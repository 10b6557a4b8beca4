import Foundation
import Glibc

/// What reading a file through the mount gave, read by read: each read either returned exactly
/// the source's bytes at its offset, or failed; wrong bytes are counted, never excused.
public struct ReadTally: Sendable, CustomStringConvertible {
    public var reads = 0
    public var succeeded = 0
    /// errno → how many reads failed with it.
    public var failures: [Int32: Int] = [:]
    /// Reads that returned bytes other than the source's (must stay 0).
    public var wrongReads = 0
    public var bytesVerified: Int64 = 0
    /// Offsets of the reads that failed, to read again later.
    public var failedOffsets: [Int] = []
    /// SHA-256 of the bytes read, when every read succeeded.
    public var sha256: String?

    public init() {}

    public var onlyEIO: Bool { failures.keys.allSatisfy { $0 == EIO } }

    public var description: String {
        "\(reads) reads, \(succeeded) ok, failures \(failures.map { "\(String(cString: strerror($0.key)))×\($0.value)" }), wrong \(wrongReads), \(bytesVerified) bytes verified"
    }

    public static func + (a: ReadTally, b: ReadTally) -> ReadTally {
        var t = a
        t.reads += b.reads
        t.succeeded += b.succeeded
        t.failures.merge(b.failures, uniquingKeysWith: +)
        t.wrongReads += b.wrongReads
        t.bytesVerified += b.bytesVerified
        t.sha256 = nil
        return t
    }
}

public enum ReadOrder: Sendable {
    case sequential
    /// Every chunk once, in an order shuffled by the seed (far-ahead reads use ranged fetches).
    case scattered(seed: UInt64)
    /// Every chunk once, as `positions` sequential readers taking turns on one handle, each
    /// starting at its share of the file: a player reading the head, the index and the body.
    case interleaved(positions: Int)
}

/// Reads `path` in `chunk`-sized `pread`s (a blocking call: use inside `blocking`) and checks each
/// against `source`. `offsets` limits the reads to those chunks. `digest` also computes the
/// SHA-256 of a whole sequential read (slow in debug builds: for a few files only).
public func checkedRead(
    _ path: String, source: [UInt8], chunk: Int = 128 << 10, order: ReadOrder = .sequential, offsets: [Int]? = nil, digest wantDigest: Bool = false
) -> ReadTally {
    var tally = ReadTally()
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
        tally.reads = 1
        tally.failures[errno, default: 0] += 1
        tally.failedOffsets = [0]
        return tally
    }
    defer { close(fd) }
    var plan = offsets ?? Array(stride(from: 0, to: source.count, by: chunk))
    switch order {
    case .sequential: break
    case .scattered(let seed):
        var rng = SeededGenerator(seed: seed)
        plan.shuffle(using: &rng)
    case .interleaved(let positions):
        let share = (plan.count + max(positions, 1) - 1) / max(positions, 1)
        let runs = stride(from: 0, to: plan.count, by: max(share, 1)).map { Array(plan[$0..<min($0 + share, plan.count)]) }
        plan = (0..<share).flatMap { step in runs.compactMap { step < $0.count ? $0[step] : nil } }
    }
    var buffer = [UInt8](repeating: 0, count: chunk)
    var digest = VideoDigest()
    var inOrder = true
    for offset in plan {
        tally.reads += 1
        let expected = min(chunk, source.count - offset)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, expected, off_t(offset)) }
        if n < 0 {
            tally.failures[errno, default: 0] += 1
            tally.failedOffsets.append(offset)
            inOrder = false
            continue
        }
        // memcmp: a comparison byte by byte in a debug build would be the slowest part of a read.
        let same = n == expected && buffer.withUnsafeBytes { b in source.withUnsafeBytes { s in memcmp(b.baseAddress!, s.baseAddress! + offset, n) == 0 } }
        if same {
            tally.succeeded += 1
            tally.bytesVerified += Int64(n)
            if wantDigest { digest.update(buffer[0..<n]) }
        } else {
            tally.wrongReads += 1
            inOrder = false
        }
    }
    if wantDigest, inOrder, offsets == nil, case .sequential = order { tally.sha256 = digest.finalize() }
    return tally
}

/// `errno` of `stat(path)`, 0 when it succeeds (a blocking call).
public func statErrno(_ path: String) -> Int32 {
    var st = stat()
    return stat(path, &st) == 0 ? 0 : errno
}

/// `errno` of `statfs(path)`, 0 when it succeeds (a blocking call). Unlike stat, which the kernel
/// may answer from cached attributes, statfs reaches the filesystem: ENOTCONN on a dead mount.
public func statfsErrno(_ path: String) -> Int32 {
    var info = statvfs()
    return statvfs(path, &info) == 0 ? 0 : errno
}

/// Whether a filesystem mounted at `path` answers (a blocking call): `statfs` succeeds, and `path`
/// lies on another device than its parent. A stale mount fails with ENOTCONN; once it is detached,
/// the plain directory beneath answers `statfs` too, before any new mount is there, but it lies on
/// its parent's device.
public func mountAnswers(at path: String) -> Bool {
    guard statfsErrno(path) == 0 else { return false }
    var mounted = stat()
    var parent = stat()
    guard stat(path, &mounted) == 0, stat((path as NSString).deletingLastPathComponent, &parent) == 0 else { return false }
    return mounted.st_dev != parent.st_dev
}

/// Seconds since `start`.
public func elapsedSeconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}
