import CFuse3
import Glibc

/// The `fuse_lowlevel_ops` table. Each callback copies what it needs out of the C arguments (which
/// are valid only during the call), then hands the request to a task and returns, so no loop thread
/// waits for the filesystem.
enum LowLevelOperations {
    static func table() -> fuse_lowlevel_ops {
        var ops = fuse_lowlevel_ops()

        ops.`init` = { userdata, conn in
            guard let conn else { return }
            SessionCore.from(userdata: userdata).initialize(conn)
        }
        ops.destroy = { userdata in
            SessionCore.from(userdata: userdata).fileSystem.destroy()
        }

        ops.lookup = { req, parent, name in
            LowLevelOperations.withName(req, name) { core, name in
                core.spawn(req!, "lookup") { r, fs in
                    r.reply(entry: try await fs.lookup(parent: parent, name: name, context: r.context))
                }
            }
        }
        ops.forget = { req, ino, nlookup in
            guard let req else { return }
            SessionCore.from(req).fileSystem.forget(inode: ino, lookups: nlookup)
            fuse_reply_none(req)
        }
        ops.forget_multi = { req, count, forgets in
            guard let req else { return }
            let fs = SessionCore.from(req).fileSystem
            if let forgets {
                for i in 0..<count { fs.forget(inode: forgets[i].ino, lookups: forgets[i].nlookup) }
            }
            fuse_reply_none(req)
        }
        ops.getattr = { req, ino, _ in
            guard let req else { return }
            SessionCore.from(req).spawn(req, "getattr") { r, fs in
                r.reply(attributes: try await fs.getattr(inode: ino, context: r.context))
            }
        }
        ops.setattr = { req, ino, attr, toSet, fi in
            guard let req, let attr else { return }
            let changes = AttributeChanges(attr.pointee, toSet: toSet)
            let file = fi?.pointee.openFile
            SessionCore.from(req).spawn(req, "setattr") { r, fs in
                r.reply(attributes: try await fs.setattr(inode: ino, changes: changes, file: file, context: r.context))
            }
        }

        ops.opendir = { req, ino, fi in
            guard let req, let fi else { return }
            let info = fi.pointee
            SessionCore.from(req).spawn(req, "opendir") { r, fs in
                r.reply(open: try await fs.opendir(inode: ino, flags: info.flags, context: r.context), fileInfo: info)
            }
        }
        ops.readdir = { req, ino, size, off, fi in
            LowLevelOperations.readdir(req, ino, size, off, fi, plus: false)
        }
        ops.readdirplus = { req, ino, size, off, fi in
            LowLevelOperations.readdir(req, ino, size, off, fi, plus: true)
        }
        ops.releasedir = { req, ino, fi in
            guard let req, let fi else { return }
            let file = fi.pointee.openFile
            SessionCore.from(req).spawn(req, "releasedir") { r, fs in
                await fs.releasedir(inode: ino, directory: file)
                r.reply(errno: 0)
            }
        }

        ops.open = { req, ino, fi in
            guard let req, let fi else { return }
            let info = fi.pointee
            SessionCore.from(req).spawn(req, "open") { r, fs in
                r.reply(open: try await fs.open(inode: ino, flags: info.flags, context: r.context), fileInfo: info)
            }
        }
        ops.read = { req, ino, size, off, fi in
            guard let req, let fi else { return }
            let file = fi.pointee.openFile
            let core = SessionCore.from(req)
            let splice = core.options.spliceReplies
            core.spawn(req, "read") { r, fs in
                guard off >= 0 else { throw FUSEError.invalid }
                r.reply(read: try await fs.read(inode: ino, file: file, offset: UInt64(off), size: size, context: r.context), splice: splice)
            }
        }
        ops.flush = { req, _, _ in
            // Nothing is buffered for writing; answering here saves a task per close().
            fuse_reply_err(req, 0)
        }
        ops.release = { req, ino, fi in
            guard let req, let fi else { return }
            let file = fi.pointee.openFile
            SessionCore.from(req).spawn(req, "release") { r, fs in
                await fs.release(inode: ino, file: file)
                r.reply(errno: 0)
            }
        }

        ops.getxattr = { req, ino, name, size in
            LowLevelOperations.withName(req, name) { core, name in
                if let names = core.extendedAttributeNames, let refusal = names.refusal(for: name) {
                    fuse_reply_err(req, refusal)
                    return
                }
                core.spawn(req!, "getxattr") { r, fs in
                    r.reply(xattr: try await fs.getxattr(inode: ino, name: name, context: r.context), requestedSize: size)
                }
            }
        }
        ops.listxattr = { req, ino, size in
            guard let req else { return }
            SessionCore.from(req).spawn(req, "listxattr") { r, fs in
                let names = try await fs.listxattr(inode: ino, context: r.context)
                // The kernel wants the names as consecutive NUL-terminated strings.
                let packed: [UInt8] = names.flatMap { Array($0.utf8) + [0] }
                r.reply(xattr: packed, requestedSize: size)
            }
        }
        ops.setxattr = { req, ino, name, value, size, flags in
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
            LowLevelOperations.withName(req, name) { core, name in
                core.spawn(req!, "setxattr") { r, fs in
                    try await fs.setxattr(inode: ino, name: name, value: bytes, flags: flags, context: r.context)
                    r.reply(errno: 0)
                }
            }
        }
        ops.removexattr = { req, ino, name in
            LowLevelOperations.withName(req, name) { core, name in
                core.spawn(req!, "removexattr") { r, fs in
                    try await fs.removexattr(inode: ino, name: name, context: r.context)
                    r.reply(errno: 0)
                }
            }
        }

        ops.statfs = { req, ino in
            guard let req else { return }
            SessionCore.from(req).spawn(req, "statfs") { r, fs in
                r.reply(statfs: try await fs.statfs(inode: ino, context: r.context))
            }
        }

        ops.unlink = { req, parent, name in
            LowLevelOperations.withName(req, name) { core, name in
                core.spawn(req!, "unlink") { r, fs in
                    try await fs.unlink(parent: parent, name: name, context: r.context)
                    r.reply(errno: 0)
                }
            }
        }
        ops.rmdir = { req, parent, name in
            LowLevelOperations.withName(req, name) { core, name in
                core.spawn(req!, "rmdir") { r, fs in
                    try await fs.rmdir(parent: parent, name: name, context: r.context)
                    r.reply(errno: 0)
                }
            }
        }
        ops.mkdir = { req, parent, name, mode in
            LowLevelOperations.withName(req, name) { core, name in
                core.spawn(req!, "mkdir") { r, fs in
                    r.reply(entry: try await fs.mkdir(parent: parent, name: name, mode: mode, context: r.context))
                }
            }
        }
        ops.mknod = { req, parent, name, mode, _ in
            LowLevelOperations.withName(req, name) { core, name in
                core.spawn(req!, "mknod") { r, fs in
                    r.reply(entry: try await fs.mknod(parent: parent, name: name, mode: mode, context: r.context))
                }
            }
        }
        ops.create = { req, parent, name, mode, fi in
            guard let fi else { return }
            let info = fi.pointee
            LowLevelOperations.withName(req, name) { core, name in
                core.spawn(req!, "create") { r, fs in
                    let (entry, open) = try await fs.create(parent: parent, name: name, mode: mode, flags: info.flags, context: r.context)
                    r.reply(create: entry, open: open, fileInfo: info)
                }
            }
        }
        ops.rename = { req, parent, name, newParent, newName, flags in
            guard let newName, let to = String(validatingCString: newName) else {
                fuse_reply_err(req, ENOENT)
                return
            }
            LowLevelOperations.withName(req, name) { core, name in
                core.spawn(req!, "rename") { r, fs in
                    try await fs.rename(parent: parent, name: name, newParent: newParent, newName: to, flags: flags, context: r.context)
                    r.reply(errno: 0)
                }
            }
        }
        ops.link = { req, ino, newParent, newName in
            LowLevelOperations.withName(req, newName) { core, name in
                core.spawn(req!, "link") { r, fs in
                    r.reply(entry: try await fs.link(inode: ino, newParent: newParent, newName: name, context: r.context))
                }
            }
        }
        ops.symlink = { req, target, parent, name in
            let target = target.map { String(cString: $0) } ?? ""
            LowLevelOperations.withName(req, name) { core, name in
                core.spawn(req!, "symlink") { r, fs in
                    r.reply(entry: try await fs.symlink(target: target, parent: parent, name: name, context: r.context))
                }
            }
        }
        ops.readlink = { req, ino in
            guard let req else { return }
            SessionCore.from(req).spawn(req, "readlink") { r, fs in
                r.reply(link: try await fs.readlink(inode: ino, context: r.context))
            }
        }
        ops.write = { req, ino, buf, size, off, fi in
            guard let req, let fi else { return }
            let file = fi.pointee.openFile
            let bytes = buf.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
            SessionCore.from(req).spawn(req, "write") { r, fs in
                guard off >= 0 else { throw FUSEError.invalid }
                r.reply(written: try await fs.write(inode: ino, file: file, offset: UInt64(off), data: bytes, context: r.context))
            }
        }

        return ops
    }

    /// Decodes a name from the kernel. Names that are not valid UTF-8 cannot name anything this
    /// filesystem serves (its names are all UTF-8), so they get `ENOENT` without a task.
    static func withName(_ req: fuse_req_t?, _ name: UnsafePointer<CChar>?, _ body: (SessionCore, String) -> Void) {
        guard let req else { return }
        guard let name, let decoded = String(validatingCString: name) else {
            fuse_reply_err(req, ENOENT)
            return
        }
        body(SessionCore.from(req), decoded)
    }

    static func readdir(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ size: Int, _ off: off_t, _ fi: UnsafeMutablePointer<fuse_file_info>?, plus: Bool) {
        guard let req, let fi else { return }
        let file = fi.pointee.openFile
        SessionCore.from(req).spawn(req, plus ? "readdirplus" : "readdir") { r, fs in
            let buffer = DirectoryBuffer(request: r.raw, capacity: size, isPlus: plus)
            try await fs.readdir(inode: ino, directory: file, offset: UInt64(bitPattern: Int64(off)), into: buffer, context: r.context)
            r.reply(directory: buffer)
        }
    }
}

extension AttributeChanges {
    init(_ st: stat, toSet: Int32) {
        self.init()
        if toSet & FUSE_SET_ATTR_MODE != 0 { mode = st.st_mode }
        if toSet & FUSE_SET_ATTR_UID != 0 { uid = st.st_uid }
        if toSet & FUSE_SET_ATTR_GID != 0 { gid = st.st_gid }
        if toSet & FUSE_SET_ATTR_SIZE != 0 { size = UInt64(max(0, st.st_size)) }
        if toSet & FUSE_SET_ATTR_ATIME_NOW != 0 {
            accessTime = .now()
        } else if toSet & FUSE_SET_ATTR_ATIME != 0 {
            accessTime = Timestamp(seconds: st.st_atim.tv_sec, nanoseconds: st.st_atim.tv_nsec)
        }
        if toSet & FUSE_SET_ATTR_MTIME_NOW != 0 {
            modificationTime = .now()
        } else if toSet & FUSE_SET_ATTR_MTIME != 0 {
            modificationTime = Timestamp(seconds: st.st_mtim.tv_sec, nanoseconds: st.st_mtim.tv_nsec)
        }
    }
}
