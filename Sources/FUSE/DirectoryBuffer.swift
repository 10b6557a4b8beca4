import CFuse3
import Glibc

/// A reply buffer for `readdir`/`readdirplus`, filled entry by entry until it is full.
///
/// The filesystem adds entries in order, starting at the offset the kernel asked for, and stops
/// when `add` returns `false`. Each entry carries the offset of the entry after it, which the
/// kernel sends back to continue the listing.
///
/// In a `readdirplus` listing every entry added, except `.` and `..`, counts as one `lookup` of
/// its inode: the kernel will `forget` it later. `add` returning `true` is the moment that count
/// must be taken.
public final class DirectoryBuffer {
    public let isPlus: Bool
    let request: fuse_req_t
    private var storage: UnsafeMutableRawBufferPointer
    private(set) var used = 0

    init(request: fuse_req_t, capacity: Int, isPlus: Bool) {
        self.request = request
        self.isPlus = isPlus
        self.storage = .allocate(byteCount: max(capacity, 0), alignment: 8)
    }

    deinit {
        storage.deallocate()
    }

    /// Adds a plain entry (for `readdir`, or `.`/`..` in `readdirplus`). Returns `false` when full.
    /// In a `readdirplus` buffer, attributes are left empty, which tells the kernel not to cache them.
    @discardableResult
    public func add(name: String, inode: Inode, kind: FileKind, nextOffset: UInt64) -> Bool {
        if isPlus {
            var e = fuse_entry_param()
            // An entry with inode 0 in readdirplus carries a name only; the kernel does not count a lookup.
            e.attr.st_ino = UInt(inode)
            e.attr.st_mode = kind.direntMode
            return append(name: name) { buf, remaining, cName in
                fuse_add_direntry_plus(request, buf, remaining, cName, &e, off_t(Int64(bitPattern: nextOffset)))
            }
        }
        var st = stat()
        st.st_ino = UInt(inode)
        st.st_mode = kind.direntMode
        return append(name: name) { buf, remaining, cName in
            fuse_add_direntry(request, buf, remaining, cName, &st, off_t(Int64(bitPattern: nextOffset)))
        }
    }

    /// Adds an entry with its full lookup answer (for `readdirplus`). Returns `false` when full.
    /// In a plain `readdir` buffer only the name, inode and kind are used.
    @discardableResult
    public func add(name: String, entry: Entry, nextOffset: UInt64) -> Bool {
        guard isPlus else {
            return add(name: name, inode: entry.attributes.inode, kind: entry.attributes.kind, nextOffset: nextOffset)
        }
        var e = entry.param
        return append(name: name) { buf, remaining, cName in
            fuse_add_direntry_plus(request, buf, remaining, cName, &e, off_t(Int64(bitPattern: nextOffset)))
        }
    }

    public var isEmpty: Bool { used == 0 }

    private func append(name: String, _ pack: (UnsafeMutablePointer<CChar>?, Int, UnsafePointer<CChar>) -> Int) -> Bool {
        let remaining = storage.count - used
        let base = storage.baseAddress.map { ($0 + used).assumingMemoryBound(to: CChar.self) }
        let needed = name.withCString { pack(base, remaining, $0) }
        // fuse_add_direntry* write nothing and report the size needed when the entry does not fit.
        guard needed <= remaining else { return false }
        used += needed
        return true
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        body(UnsafeRawBufferPointer(rebasing: storage[0..<used]))
    }
}
