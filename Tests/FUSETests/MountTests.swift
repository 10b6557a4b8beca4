import FUSE
import Foundation
import Glibc
import Testing
import TestSupport

@Suite("FUSE binding, mounted for real", .serialized, .timeLimit(.minutes(3)))
struct MountTests {
    @Test("stat and statfs report what the filesystem says")
    func statAttributes() async throws {
        let fs = MemoryFileSystem()
        fs.addFile("hello.txt", size: 12_345, content: .generated(seed: 1))
        try await withMount(fs) { mnt, _ in
            let st = try await blocking { try Sys.stat(mnt + "/hello.txt") }
            #expect(st.st_size == 12_345)
            #expect(st.st_mode & S_IFMT == S_IFREG)
            #expect(st.st_mode & 0o777 == 0o644)
            #expect(st.st_mtim.tv_sec > 1_700_000_000)
            let root = try await blocking { try Sys.stat(mnt) }
            #expect(root.st_mode & S_IFMT == S_IFDIR)
            #expect(root.st_ino == 1)
            let vfs = try await blocking { try Sys.statfs(mnt) }
            #expect(vfs.f_bsize == 4096)
            #expect(vfs.f_blocks == (12_345 + 4095) / 4096)
        }
    }

    @Test("a missing name is ENOENT")
    func missingName() async throws {
        try await withMount(MemoryFileSystem()) { mnt, _ in
            let e = try await blocking { Sys.errnoOf { _ = try Sys.stat(mnt + "/nope") } }
            #expect(e == ENOENT)
        }
    }

    @Test("directory listings span several readdir buffers", arguments: [false, true])
    func listing(directIO: Bool) async throws {
        let fs = MemoryFileSystem(directIO: directIO)
        let names = (0..<1500).map { String(format: "file-%04d-with-a-longish-name.bin", $0) }
        for n in names { fs.addFile(n, size: 10, content: .generated(seed: 2)) }
        let sub = fs.addDirectory("sub")
        fs.addFile("nested.txt", in: sub, size: 5, content: .generated(seed: 3))
        try await withMount(fs) { mnt, _ in
            let listed = try await blocking { try Sys.list(mnt) }
            #expect(Set(listed) == Set(names + ["sub", ".", ".."]))
            #expect(listed.count == names.count + 3)
            let ls = try await run(["ls", "-l", mnt + "/sub"])
            #expect(ls.succeeded)
            #expect(ls.stdout.contains("nested.txt"))
            #expect(ls.stdout.contains(" 5 "))
        }
    }

    @Test("reads at any offset, across the end, and past it", arguments: [false, true])
    func readsAtOffsets(directIO: Bool) async throws {
        let fs = MemoryFileSystem(directIO: directIO)
        let size = 3 * 1024 * 1024 + 17
        fs.addFile("data.bin", size: UInt64(size), content: .generated(seed: 4))
        try await withMount(fs) { mnt, _ in
            let path = mnt + "/data.bin"
            for (offset, count) in [(0, 4096), (1, 1), (131_071, 131_075), (1_000_003, 777_777), (size - 10, 10), (size - 10, 100), (size, 10), (size + 5000, 10)] {
                let got = try await blocking { try Sys.pread(path, offset: offset, count: count) }
                let expectedCount = max(0, min(count, size - offset))
                #expect(got.count == expectedCount, "offset \(offset)")
                #expect(got == Pattern.bytes(offset: UInt64(max(0, min(offset, size))), count: expectedCount, seed: 4), "offset \(offset)")
            }
            let cat = try await run(["cat", path])
            #expect(cat.stdoutBytes == Pattern.bytes(offset: 0, count: size, seed: 4))
        }
    }

    @Test("a read answered late does not hold back other reads")
    func slowReadDoesNotBlockOthers() async throws {
        let fs = MemoryFileSystem(directIO: true)
        fs.addFile("slow.bin", size: 4096, content: .slow(seed: 5))
        fs.addFile("fast.bin", size: 65_536, content: .generated(seed: 6))
        try await withMount(fs) { mnt, _ in
            // Start a reader that will wait on the gate.
            let slow = Task { try await blocking("slow read", timeout: 30) { try Sys.pread(mnt + "/slow.bin", offset: 0, count: 4096) } }
            try await waitUntil("slow read reached the filesystem") { fs.events.withLock { $0.reads } >= 1 }
            // Many other reads complete while it waits.
            for i in 0..<50 {
                let got = try await blocking("fast read", timeout: 5) { try Sys.pread(mnt + "/fast.bin", offset: i * 1000, count: 1000) }
                #expect(got == Pattern.bytes(offset: UInt64(i * 1000), count: 1000, seed: 6))
            }
            #expect(slow.isCancelled == false)
            fs.releaseSlowReads()
            let bytes = try await slow.value
            #expect(bytes == Pattern.bytes(offset: 0, count: 4096, seed: 5))
        }
    }

    @Test("concurrent readers of one file and of many files get the right bytes")
    func concurrentReaders() async throws {
        let fs = MemoryFileSystem()
        let size = 8 * 1024 * 1024
        for i in 0..<4 { fs.addFile("f\(i).bin", size: UInt64(size), content: .generated(seed: UInt8(10 + i))) }
        try await withMount(fs) { mnt, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for reader in 0..<16 {
                    group.addTask {
                        let file = reader % 4
                        var rng = SystemRandomNumberGenerator()
                        for _ in 0..<20 {
                            let offset = Int.random(in: 0..<size, using: &rng)
                            let count = Int.random(in: 1...300_000, using: &rng)
                            let got = try await blocking { try Sys.pread(mnt + "/f\(file).bin", offset: offset, count: count) }
                            let expected = Pattern.bytes(offset: UInt64(offset), count: min(count, size - offset), seed: UInt8(10 + file))
                            #expect(got == expected, "reader \(reader) offset \(offset) count \(count)")
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test("unlink reaches the filesystem, and its errno comes back")
    func unlinkReachesCallback() async throws {
        let fs = MemoryFileSystem()
        fs.addFile("doomed.txt", size: 10, content: .generated(seed: 7))
        let keep = fs.addFile("kept.txt", size: 10, content: .generated(seed: 7))
        fs.update(keep) { $0.protected = true }
        try await withMount(fs) { mnt, _ in
            let rm = try await run(["rm", mnt + "/doomed.txt"])
            #expect(rm.succeeded, "\(rm.stderr)")
            #expect(fs.events.withLock { $0.unlinked } == ["doomed.txt"])
            let gone = try await blocking { Sys.errnoOf { _ = try Sys.stat(mnt + "/doomed.txt") } }
            #expect(gone == ENOENT)
            let refused = try await blocking { Sys.errnoOf { try Sys.unlink(mnt + "/kept.txt") } }
            #expect(refused == EPERM)
            let stillThere = try await blocking { try Sys.stat(mnt + "/kept.txt") }
            #expect(stillThere.st_size == 10)
        }
    }

    @Test("mutations the filesystem does not implement fail with EROFS")
    func defaultMutationsAreReadOnly() async throws {
        let fs = MemoryFileSystem()
        fs.addFile("a.txt", size: 1, content: .generated(seed: 8))
        try await withMount(fs) { mnt, _ in
            let mkdirErr = try await blocking { mkdir(mnt + "/newdir", 0o755) == 0 ? 0 : errno }
            #expect(mkdirErr == EROFS)
            let renameErr = try await blocking { rename(mnt + "/a.txt", mnt + "/b.txt") == 0 ? 0 : errno }
            #expect(renameErr == EROFS)
            let createErr = try await blocking { () -> Int32 in
                let fd = open(mnt + "/new.txt", O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
                if fd >= 0 { close(fd); return 0 }
                return errno
            }
            #expect(createErr == EROFS)
        }
    }

    @Test("extended attributes round-trip through the kernel")
    func xattrRoundTrip() async throws {
        let fs = MemoryFileSystem()
        fs.addFile("tagged.mp4", size: 100, content: .generated(seed: 9))
        try await withMount(fs) { mnt, _ in
            let path = mnt + "/tagged.mp4"
            let value = Array("holiday,beach,\u{1F3D6}".utf8)
            try await blocking { try Sys.setxattr(path, "user.mavi.tags", value) }
            try await blocking { try Sys.setxattr(path, "user.empty", []) }
            #expect(try await blocking { try Sys.getxattr(path, "user.mavi.tags") } == value)
            #expect(try await blocking { try Sys.getxattr(path, "user.empty") } == [])
            #expect(Set(try await blocking { try Sys.listxattr(path) }) == ["user.mavi.tags", "user.empty"])
            let missing = try await blocking { Sys.errnoOf { _ = try Sys.getxattr(path, "user.nope") } }
            #expect(missing == ENODATA)
            let getfattr = try await run(["getfattr", "--only-values", "-n", "user.mavi.tags", path])
            #expect(getfattr.stdoutBytes == value)
            try await blocking { try Sys.removexattr(path, "user.empty") }
            #expect(try await blocking { try Sys.listxattr(path) } == ["user.mavi.tags"])
        }
    }

    @Test("extended attributes outside the served prefixes are answered without reaching the filesystem")
    func xattrPrefixes() async throws {
        let fs = MemoryFileSystem(extendedAttributePrefixes: ["user.mavi."])
        fs.addFile("a.mp4", size: 10, content: .generated(seed: 1))
        fs.addFile("b.mp4", size: 10, content: .generated(seed: 2))
        try await withMount(fs) { mnt, _ in
            try await blocking { try Sys.setxattr(mnt + "/a.mp4", "user.mavi.tags", Array("x".utf8)) }
            let listing = try await run(["ls", "-l", mnt])
            #expect(listing.status == 0 && listing.stdout.contains("b.mp4"))
            let selinux = try await blocking { Sys.errnoOf { _ = try Sys.getxattr(mnt + "/b.mp4", "security.selinux") } }
            let acl = try await blocking { Sys.errnoOf { _ = try Sys.getxattr(mnt + "/b.mp4", "system.posix_acl_access") } }
            // Unsupported namespaces say so, which lets GNU ls stop asking for every file.
            #expect(selinux == EOPNOTSUPP && acl == EOPNOTSUPP)
            let otherUser = try await blocking { Sys.errnoOf { _ = try Sys.getxattr(mnt + "/b.mp4", "user.other") } }
            #expect(otherUser == ENODATA)
            let trusted = try await blocking { Sys.errnoOf { _ = try Sys.getxattr(mnt + "/b.mp4", "trusted.x") } }
            #expect(trusted == EOPNOTSUPP)
            #expect(try await blocking { try Sys.getxattr(mnt + "/a.mp4", "user.mavi.tags") } == Array("x".utf8))
            let missing = try await blocking { Sys.errnoOf { _ = try Sys.getxattr(mnt + "/b.mp4", "user.mavi.tags") } }
            #expect(missing == ENODATA)
        }
        // Only the served names reached the filesystem, though ls -l asked every file for others.
        let reached = fs.events.withLock { $0.getxattrNames }
        #expect(reached.count >= 2 && reached.allSatisfy { $0 == "user.mavi.tags" })
    }

    @Test("reads served from a file descriptor range, copied or spliced", arguments: [false, true], [false, true])
    func fileDescriptorReads(directIO: Bool, splice: Bool) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let backing = dir.appending("backing.bin")
        let size = 5 * 1024 * 1024 + 333
        let contents = Pattern.bytes(offset: 0, count: size, seed: 11)
        try Data(contents).write(to: URL(fileURLWithPath: backing))
        let fs = MemoryFileSystem(directIO: directIO)
        fs.addFile("spliced.bin", size: UInt64(size), content: .backingFile(path: backing))
        try await withMount(fs, options: MountOptions(fsName: "mavifs-test", maxRead: 1 << 20, spliceReplies: splice)) { mnt, _ in
            // Generous: the test process reads cat's 5 MiB from a pipe itself, which a loaded
            // machine makes slow (a minute under five times oversubscribed cores).
            let cat = try await run(["cat", mnt + "/spliced.bin"], timeout: 300)
            #expect(cat.stdoutBytes.count == size)
            #expect(cat.stdoutBytes == contents)
            let mid = try await blocking { try Sys.pread(mnt + "/spliced.bin", offset: 4_000_000, count: 200_000) }
            #expect(mid == Array(contents[4_000_000..<4_200_000]))
        }
        #expect(fs.events.withLock { $0.opens == $0.releases })
        let (replies, sent) = fs.events.withLock { ($0.rangeReplies, $0.rangesSent) }
        #expect(replies > 0 && sent == replies, "every file range reply reports once that it was sent")
    }
}
