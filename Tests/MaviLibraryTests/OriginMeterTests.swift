@testable import MaviLibrary
import Testing

@Suite("Request sizes from what an origin's link shows")
struct OriginMeterTests {
    @Test("a request lasts several round trips: one block over a slow long link, the largest allowed over a fast short one")
    func sizes() {
        let mib = 1 << 20
        // Nothing known yet: about 2 MiB, whole blocks, within the cap.
        #expect(OriginMeter().requestBlocks(origin: "http://a:80", blockSize: 4 * mib, maxBlocks: 2) == 1)
        #expect(OriginMeter().requestBlocks(origin: "http://a:80", blockSize: 256 << 10, maxBlocks: 16) == 8)
        #expect(OriginMeter().requestBlocks(origin: "http://a:80", blockSize: 256 << 10, maxBlocks: 4) == 4)
        // 40 ms to the first byte, 10 MB/s a connection: 0.16 s brings 1.6 MB, under one 4 MiB block.
        let wan = OriginMeter.Reading(firstByte: 0.04, rate: 10e6)
        #expect(OriginMeter.requestBlocks(for: wan, blockSize: 4 * mib, maxBlocks: 2) == 1)
        // The same link in 64 KiB blocks: 1.6 MB is 25 of them.
        #expect(OriginMeter.requestBlocks(for: wan, blockSize: 64 << 10, maxBlocks: 128) == 25)
        // Loopback: a millisecond, a gigabyte a second; at least 0.1 s of it, capped.
        let local = OriginMeter.Reading(firstByte: 0.001, rate: 1e9)
        #expect(OriginMeter.requestBlocks(for: local, blockSize: 4 * mib, maxBlocks: 2) == 2)
        // Never less than a block, whatever was measured.
        #expect(OriginMeter.requestBlocks(for: .init(firstByte: 0, rate: 0), blockSize: 4 * mib, maxBlocks: 2) == 1)
    }

    @Test("measurements make a running average per origin; replies too small to tell a rate are left out")
    func averages() {
        let meter = OriginMeter()
        meter.record(origin: "http://a:80", firstByte: 0.1, bytes: 1_000_000, transfer: 1)
        #expect(meter.reading(of: "http://a:80") == .init(firstByte: 0.1, rate: 1_000_000))
        meter.record(origin: "http://a:80", firstByte: 0.2, bytes: 2_000_000, transfer: 1)
        let reading = meter.reading(of: "http://a:80")
        #expect(abs((reading?.firstByte ?? 0) - 0.13) < 1e-9)
        #expect(abs((reading?.rate ?? 0) - 1_300_000) < 1e-6)
        meter.record(origin: "http://b:80", firstByte: 0.1, bytes: 1000, transfer: 0.001)
        #expect(meter.reading(of: "http://b:80") == nil)
        #expect(meter.reading(of: "http://a:80") == reading, "origins are apart")
    }
}
