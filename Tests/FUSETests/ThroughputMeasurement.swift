import FUSE
import Foundation
import Testing
import TestSupport

/// Read throughput of the binding itself, from a filesystem that answers from memory. Not a timed
/// test: it checks the bytes and prints the rate. Runs only when MAVIFS_FUSE_THROUGHPUT is set
/// (use a release build: `swift test -c release --filter ThroughputMeasurement`).
@Suite("FUSE read throughput", .enabled(if: ProcessInfo.processInfo.environment["MAVIFS_FUSE_THROUGHPUT"] != nil), .serialized)
struct ThroughputMeasurement {
    static let size = 1 << 30

    @Test("dd bs=1M of 1 GiB", arguments: [
        ("page cache", false, UInt32?.none),
        ("direct_io", true, UInt32?.none),
        ("direct_io + max_read=1M", true, UInt32?(1 << 20)),
    ])
    func readGiB(label: String, directIO: Bool, maxRead: UInt32?) async throws {
        let fs = MemoryFileSystem(directIO: directIO)
        fs.addFile("big.bin", size: UInt64(Self.size), content: .generated(seed: 1))
        let options = MountOptions(fsName: "mavifs-throughput", maxRead: maxRead)
        try await withMount(fs, options: options) { mnt, _ in
            let started = Date()
            let dd = try await run(["dd", "if=\(mnt)/big.bin", "of=/dev/null", "bs=1M"], timeout: 120)
            let seconds = Date().timeIntervalSince(started)
            #expect(dd.succeeded, "\(dd.stderr)")
            #expect(dd.stderr.contains("\(Self.size) bytes"))
            print("throughput \(label): \(String(format: "%.2f", Double(Self.size) / seconds / 1e9)) GB/s (\(String(format: "%.2f", seconds)) s); dd says: \(dd.stderr.split(separator: "\n").last ?? "")")
        }
        // The bytes are right, too: spot-check across the file.
        try await withMount(fs, options: options) { mnt, _ in
            for offset in stride(from: 0, to: Self.size, by: 97 * 1024 * 1024 + 13) {
                let got = try await blocking { try Sys.pread(mnt + "/big.bin", offset: offset, count: 4096) }
                #expect(got == Pattern.bytes(offset: UInt64(offset), count: 4096, seed: 1))
            }
        }
    }
}
