import FUSE
import Foundation
import Glibc
import Testing
import TestSupport

@Suite("FUSE session lifecycle and kernel notifications", .serialized, .timeLimit(.minutes(3)))
struct LifecycleTests {
    @Test("unmount() ends the loop and removes the mount")
    func programmaticUnmount() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let fs = MemoryFileSystem()
        fs.addFile("x", size: 1, content: .generated(seed: 1))
        let session = try FUSESession(mounting: fs, at: dir.path, options: MountOptions(fsName: "mavifs-test"))
        session.start()
        #expect(isMounted(dir.path))
        _ = try await blocking { try Sys.stat(dir.path + "/x") }
        await session.unmount(timeout: 5)
        #expect(!isMounted(dir.path))
        #expect(await session.waitUntilUnmounted() == 0)
    }

    @Test("fusermount3 -u from outside ends the loop with status 0")
    func externalUnmount() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let session = try FUSESession(mounting: MemoryFileSystem(), at: dir.path, options: MountOptions(fsName: "mavifs-test"))
        session.start()
        do {
            let r = try await run(["fusermount3", "-u", dir.path])
            #expect(r.succeeded, "\(r.stderr)")
            let status = await withTaskGroup(of: Int32?.self) { group in
                group.addTask { await session.waitUntilUnmounted() }
                group.addTask { try? await Task.sleep(for: .seconds(60)); return nil }  // a bound, not a wait: a loaded machine is slow
                let first = await group.next()!
                group.cancelAll()
                return first
            }
            #expect(status == 0)
            #expect(!isMounted(dir.path))
        } catch {
            await session.unmount()
            throw error
        }
    }

    @Test("a mount that was never started can be unmounted")
    func unmountBeforeStart() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let session = try FUSESession(mounting: MemoryFileSystem(), at: dir.path, options: MountOptions(fsName: "mavifs-test"))
        #expect(isMounted(dir.path))
        await session.unmount(timeout: 5)
        #expect(!isMounted(dir.path))
    }

    @Test("unmounting while a read waits ends the read with an error, not a hang")
    func unmountWithReadInFlight() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let fs = MemoryFileSystem(directIO: true)
        fs.addFile("slow.bin", size: 4096, content: .slow(seed: 2))
        let session = try FUSESession(mounting: fs, at: dir.path, options: MountOptions(fsName: "mavifs-test"))
        session.start()
        let reader = Task { try await blocking("pending read", timeout: 20) { try Sys.pread(dir.path + "/slow.bin", offset: 0, count: 4096) } }
        try await waitUntil("read reached the filesystem") { fs.events.withLock { $0.reads } >= 1 }
        let started = Date()
        await session.unmount(timeout: 2)
        let result = await reader.result
        #expect(Date().timeIntervalSince(started) < 15)
        switch result {
        case .success(let bytes): Issue.record("read succeeded with \(bytes.count) bytes after unmount")
        case .failure(let error):
            let errno = (error as? Sys.Failure)?.errno
            #expect([EIO, ENOTCONN, EINTR, ECONNABORTED].contains(errno ?? 0), "\(error)")
        }
        #expect(fs.events.withLock { $0.cancelledReads } == 1)
        #expect(!isMounted(dir.path))
    }

    @Test("invalidating an inode makes the kernel fetch new attributes")
    func invalidateInode() async throws {
        let fs = MemoryFileSystem(timeout: 3600)
        let ino = fs.addFile("growing.bin", size: 100, content: .generated(seed: 4))
        try await withMount(fs) { mnt, session in
            #expect(try await blocking { try Sys.stat(mnt + "/growing.bin") }.st_size == 100)
            fs.update(ino) { $0.size = 5000 }
            // Attributes are cached for an hour: without a notification the kernel keeps the old size.
            #expect(try await blocking { try Sys.stat(mnt + "/growing.bin") }.st_size == 100)
            session.invalidateInode(ino)
            await session.flushNotifications()
            #expect(try await blocking { try Sys.stat(mnt + "/growing.bin") }.st_size == 5000)
            let tail = try await blocking { try Sys.pread(mnt + "/growing.bin", offset: 4990, count: 100) }
            #expect(tail == Pattern.bytes(offset: 4990, count: 10, seed: 4))
        }
    }

    @Test("invalidating an entry makes the kernel look the name up again")
    func invalidateEntry() async throws {
        let fs = MemoryFileSystem(timeout: 3600)
        let ino = fs.addFile("vanishing.txt", size: 10, content: .generated(seed: 5))
        try await withMount(fs) { mnt, session in
            _ = try await blocking { try Sys.stat(mnt + "/vanishing.txt") }
            fs.remove(ino)
            // Still cached for an hour.
            #expect(try await blocking { Sys.errnoOf { _ = try Sys.stat(mnt + "/vanishing.txt") } } == 0)
            session.invalidateEntry(parent: rootInode, name: "vanishing.txt")
            await session.flushNotifications()
            #expect(try await blocking { Sys.errnoOf { _ = try Sys.stat(mnt + "/vanishing.txt") } } == ENOENT)
        }
    }

    @Test("notifyDelete removes a cached name")
    func notifyDelete() async throws {
        let fs = MemoryFileSystem(timeout: 3600)
        let ino = fs.addFile("deleted.txt", size: 10, content: .generated(seed: 6))
        try await withMount(fs) { mnt, session in
            _ = try await blocking { try Sys.stat(mnt + "/deleted.txt") }
            fs.remove(ino)
            session.notifyDelete(parent: rootInode, child: ino, name: "deleted.txt")
            await session.flushNotifications()
            #expect(try await blocking { Sys.errnoOf { _ = try Sys.stat(mnt + "/deleted.txt") } } == ENOENT)
        }
    }

    @Test("max_read is negotiated, so mounting with it works and reads are capped")
    func maxRead() async throws {
        let fs = MemoryFileSystem(directIO: true)
        let size = 4 * 1024 * 1024
        fs.addFile("big.bin", size: UInt64(size), content: .generated(seed: 7))
        let options = MountOptions(fsName: "mavifs-test", readOnly: true, defaultPermissions: true, maxRead: 1 << 20)
        try await withMount(fs, options: options) { mnt, _ in
            let before = fs.events.withLock { $0.reads }
            let got = try await blocking { try Sys.pread(mnt + "/big.bin", offset: 0, count: size) }
            #expect(got == Pattern.bytes(offset: 0, count: size, seed: 7))
            // 4 MiB in requests of at most 1 MiB.
            #expect(fs.events.withLock { $0.reads } - before >= 4)
            let mounts = try String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)
            let line = mounts.split(separator: "\n").first { $0.contains(mnt) }
            #expect(line?.contains("ro,") == true)
            #expect(line?.contains("default_permissions") == true)
            #expect(line?.contains("max_read=1048576") == true)
        }
    }
}
