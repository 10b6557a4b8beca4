import CMalloc

/// The C heap of a mount.
///
/// glibc gives threads arenas of their own, up to eight per core. A mount's requests run on many
/// threads, and each arena keeps what was freed in it: after a few walks over a folder of 100,000
/// videos each arena held its own copy of that garbage (a mount grew from 209 to 278 MiB resident
/// with nothing new in it). Two arenas keep the heap where its live data is; allocation is not
/// where a mount spends its time.
///
/// Making the names and folders of a large listing frees as much as it keeps (the records of a
/// page, names before they are packed), and glibc gives freed memory in the middle of its heap
/// back to the system only when asked: a mount of a million videos stayed 150 MiB above what it
/// held. ``releaseFreedMemory(every:)`` asks, when there is enough to give back.
enum MemoryArenas {
    static func limit() {
        _ = mallopt(M_ARENA_MAX, 2)
    }

    /// Free memory the heap keeps before it is worth handing back (a trim walks the heap).
    static let releaseThreshold = 32 << 20

    /// Hands freed heap memory back to the system whenever more than ``releaseThreshold`` of it
    /// has piled up since the last time, checked every `interval`, until cancelled. (What a trim
    /// gives back stays counted as free, so the free bytes after a trim are the new floor.)
    static func releaseFreedMemory(every interval: Duration) async {
        var floor = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let free = mallinfo2().fordblks
            if free > floor + releaseThreshold {
                _ = malloc_trim(0)
                floor = mallinfo2().fordblks
            } else {
                floor = min(floor, free)
            }
        }
    }
}
