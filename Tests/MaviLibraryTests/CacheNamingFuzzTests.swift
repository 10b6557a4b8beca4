import Foundation
@testable import MaviLibrary
import Testing
import TestSupport

/// Whatever namespace and video number a listing carries, the cache's files stay inside the
/// cache folder: one component per value, never `.` or `..`, and a record's path reads back as
/// the key it was made for.
@Suite("Cache file names under fuzzing")
struct CacheNamingFuzzTests {
    static let cases = Soak.scale(ci: 5_000, soak: 1_000_000)

    @Test("hostile namespaces and video numbers map to paths inside the cache, and back")
    func paths() {
        let layout = CacheLayout(directory: "/cache")
        var input = HostileInput(seed: 0x5EED_0006)
        var tooLong = 0
        for _ in 0..<Self.cases {
            func value() -> String {
                if input.chance(0.6) { return input.pick(HostileInput.hostileStrings) }
                var scalars = String.UnicodeScalarView()
                for _ in 0..<input.int(0..<60) {
                    if let s = Unicode.Scalar(UInt32(input.chance(0.5) ? input.int(0..<0x80) : input.int(0..<0x11_0000))) { scalars.append(s) }
                }
                return String(scalars)
            }
            let key = CacheKey(namespace: value(), videoNo: input.chance(0.05) ? "" : value(), size: Int64(input.int(0..<Int(Int32.max))))
            for path in [layout.dataFile(key), layout.recordFile(key)] {
                #expect(path.hasPrefix("/cache/v1/"))
                let components = path.dropFirst("/cache/v1/".count).split(separator: "/", omittingEmptySubsequences: false)
                #expect(components.count == 2, "\(path.debugDescription)")
                for c in components {
                    #expect(!c.isEmpty && c != "." && c != "..")
                    #expect(!c.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
                }
                if components.contains(where: { $0.utf8.count > 255 }) { tooLong += 1 }
            }
            if !key.videoNo.isEmpty {
                #expect(layout.key(forRecordAt: layout.recordFile(key)) == key, "\(key)")
            }
        }
        reportFigure("cache naming fuzz", "\(Self.cases) keys; \(tooLong) paths with a component over 255 bytes (they fail to open, with EIO)")
    }
}
