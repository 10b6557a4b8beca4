import Foundation
@testable import MaviLibrary
import Testing
import TestSupport

/// One process at a time writes a cache folder.
@Suite("The cache folder's lock")
struct CacheLockTests {
    @Test("a second holder is refused while the first holds the lock, and gets it once it is given back, even during its wait")
    func oneHolder() throws {
        let work = try TemporaryDirectory(prefix: "mavifs-lock")
        defer { work.remove() }
        let layout = CacheLayout(directory: work.path)
        let first = try CacheDirectoryLock(layout: layout)
        #expect(throws: CacheDirectoryError.self) { try CacheDirectoryLock(layout: layout) }

        // Given back from another thread, before or while the second one waits (as a child
        // starting elsewhere in the process gives it back at its exec): the second gets it.
        // A thread of its own, not a pool's that a loaded machine may not start in time: the
        // second holder's wait blocks the thread it runs on.
        let givenBack = DispatchSemaphore(value: 0)
        Thread {
            usleep(100_000)
            first.release()
            givenBack.signal()
        }.start()
        let second = try CacheDirectoryLock(layout: layout)
        givenBack.wait()
        #expect(throws: CacheDirectoryError.self) { try CacheDirectoryLock(layout: layout) }
        second.release()
        _ = try CacheDirectoryLock(layout: layout)
    }
}
