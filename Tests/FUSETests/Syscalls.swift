import Foundation
import CFuse3
import Glibc

/// Thin wrappers over the syscalls the tests make through the kernel. They block, so tests call
/// them inside `blocking { }`.
enum Sys {
    struct Failure: Error, Equatable, CustomStringConvertible {
        let call: String
        let errno: Int32
        var description: String { "\(call): \(String(cString: strerror(errno)))" }
    }

    static func stat(_ path: String) throws -> stat {
        var st = Glibc.stat()
        guard statPath(path, &st) == 0 else { throw Failure(call: "stat \(path)", errno: errno) }
        return st
    }

    static func pread(_ path: String, offset: Int, count: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(call: "open \(path)", errno: errno) }
        defer { close(fd) }
        return try pread(fd: fd, offset: offset, count: count)
    }

    static func pread(fd: Int32, offset: Int, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 { throw Failure(call: "pread", errno: errno) }
            if n == 0 { break }
            done += n
        }
        return Array(out.prefix(done))
    }

    static func list(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw Failure(call: "opendir \(path)", errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let e = readdir(dir) {
            let name = withUnsafePointer(to: e.pointee.d_name) { p in
                p.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            names.append(name)
        }
        return names
    }

    static func unlink(_ path: String) throws {
        guard Glibc.unlink(path) == 0 else { throw Failure(call: "unlink \(path)", errno: errno) }
    }

    static func setxattr(_ path: String, _ name: String, _ value: [UInt8]) throws {
        guard CFuse3.setxattr(path, name, value, value.count, 0) == 0 else { throw Failure(call: "setxattr", errno: errno) }
    }

    static func getxattr(_ path: String, _ name: String) throws -> [UInt8] {
        let size = CFuse3.getxattr(path, name, nil, 0)
        guard size >= 0 else { throw Failure(call: "getxattr size", errno: errno) }
        var buf = [UInt8](repeating: 0, count: size)
        let n = CFuse3.getxattr(path, name, &buf, size)
        guard n >= 0 else { throw Failure(call: "getxattr", errno: errno) }
        return Array(buf.prefix(n))
    }

    static func listxattr(_ path: String) throws -> [String] {
        let size = CFuse3.listxattr(path, nil, 0)
        guard size >= 0 else { throw Failure(call: "listxattr size", errno: errno) }
        var buf = [CChar](repeating: 0, count: size)
        let n = CFuse3.listxattr(path, &buf, size)
        guard n >= 0 else { throw Failure(call: "listxattr", errno: errno) }
        return buf.prefix(n).split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
    }

    static func removexattr(_ path: String, _ name: String) throws {
        guard CFuse3.removexattr(path, name) == 0 else { throw Failure(call: "removexattr", errno: errno) }
    }

    static func statfs(_ path: String) throws -> statvfs {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { throw Failure(call: "statvfs", errno: errno) }
        return s
    }

    /// The errno a call failed with, or 0.
    static func errnoOf(_ body: () throws -> Void) -> Int32 {
        do {
            try body()
            return 0
        } catch let f as Failure {
            return f.errno
        } catch {
            return -1
        }
    }
}

private func statPath(_ path: String, _ st: inout stat) -> Int32 {
    stat(path, &st)
}
