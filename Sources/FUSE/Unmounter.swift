import Foundation
import Glibc
import Logging

/// Unmounting and stale-mount handling, outside any session.
public enum Unmounter {
    /// Detaches the mount at `path` lazily: it disappears from the namespace now, and the kernel ends
    /// the FUSE connection once no open file uses it. Root calls umount2 directly; others go through
    /// the setuid `fusermount3`.
    public static func detach(_ path: String, logger: Logger? = nil) {
        if geteuid() == 0 {
            if umount2(path, Int32(MNT_DETACH)) != 0 && errno != EINVAL && errno != ENOENT {
                logger?.warning("umount \(path): \(String(cString: strerror(errno)))")
            }
            return
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/fusermount3")
        p.arguments = ["-u", "-z", "-q", path]
        do {
            try p.run()
            p.waitUntilExit()
        } catch {
            logger?.warning("fusermount3 -u \(path): \(error)")
        }
    }

    /// True when `path` is a FUSE mount whose process is gone ("Transport endpoint is not connected").
    ///
    /// Asks with statvfs (the statfs call), which the kernel always sends to the filesystem: a stat may be answered
    /// from attributes the kernel still has cached, and so succeed on a dead mount.
    public static func isStale(_ path: String) -> Bool {
        var info = statvfs()
        return statvfs(path, &info) != 0 && errno == ENOTCONN
    }

    /// True when `path` is a mount point of any kind.
    public static func isMountPoint(_ path: String) -> Bool {
        MountTable.entry(for: path) != nil
    }

    /// The type of the filesystem mounted at `path` (`fuse.mavifs`, `ext4`…), from the mount
    /// table alone: never a call into the mount, which may hang.
    public static func fileSystemType(at path: String) -> String? {
        MountTable.entry(for: path)?.fsType
    }

    /// `path` made absolute with symlinks resolved in its parent directory, as the mount table
    /// shows it; the last component is not followed (it may be a mount that does not answer).
    public static func canonicalPath(_ path: String) -> String {
        MountPath.canonical(path)
    }
}

/// Reads `/proc/self/mountinfo`.
enum MountTable {
    struct Line {
        var device: (major: UInt32, minor: UInt32)
        var mountpoint: String
        var fsType: String
    }

    static func entry(for path: String) -> Line? {
        let target = MountPath.canonical(path)
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        // Later lines shadow earlier ones at the same mount point.
        return text.split(separator: "\n").compactMap(parse).last { $0.mountpoint == target }
    }

    /// `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue`
    static func parse(_ line: Substring) -> Line? {
        let fields = line.split(separator: " ")
        guard fields.count > 8, let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count else { return nil }
        let dev = fields[2].split(separator: ":")
        guard dev.count == 2, let major = UInt32(dev[0]), let minor = UInt32(dev[1]) else { return nil }
        return Line(device: (major, minor), mountpoint: unescape(fields[4]), fsType: String(fields[dash + 1]))
    }

    /// mountinfo writes space, tab, newline and backslash as three-digit octal escapes.
    static func unescape(_ s: Substring) -> String {
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "\\"), it.count >= 3,
               let v = UInt8(String(decoding: it.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(v)
                it = it.dropFirst(3)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The fusectl control files of one FUSE connection (`/sys/fs/fuse/connections/<minor>`).
struct ConnectionControl: Sendable {
    let directory: String

    static func find(mountpoint: String) -> ConnectionControl? {
        guard let line = MountTable.entry(for: mountpoint), line.fsType.hasPrefix("fuse") else { return nil }
        return ConnectionControl(directory: "/sys/fs/fuse/connections/\(line.device.minor)")
    }

    /// Ends the connection at once: every pending and later request on it fails with ENOTCONN.
    func abort() {
        let path = directory + "/abort"
        if access(path, W_OK) != 0 && geteuid() == 0 {
            // fusectl may not be mounted yet.
            _ = mount("fusectl", "/sys/fs/fuse/connections", "fusectl", 0, nil)
        }
        let fd = open(path, O_WRONLY)
        guard fd >= 0 else { return }
        _ = write(fd, "1", 1)
        close(fd)
    }
}

/// Path handling that never touches the mount point itself: a stat of a mount point served by this
/// process, before its loop runs, would wait forever.
enum MountPath {
    /// The absolute path with symlinks resolved in the parent directory; the last component is kept
    /// as it is.
    static func canonical(_ path: String) -> String {
        var trimmed = path
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        let slash = trimmed.lastIndex(of: "/")
        let parent = slash.map { $0 == trimmed.startIndex ? "/" : String(trimmed[..<$0]) } ?? "."
        let last = slash.map { String(trimmed[trimmed.index(after: $0)...]) } ?? trimmed
        if trimmed == "/" { return "/" }
        guard let resolved = realpath(parent, nil) else { return trimmed }
        defer { free(resolved) }
        let base = String(cString: resolved)
        if last == "." || last.isEmpty { return base }
        return base == "/" ? "/" + last : base + "/" + last
    }
}
