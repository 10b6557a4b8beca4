import Foundation

/// Checks a cache folder against the sources, from its documented on-disk layout alone:
/// `v1/<namespace>/<video_no>.<size>.blocks` records (`MAVIBLK1`, block size u32, file size u64,
/// block count u32, one bit per block, CRC-32, little-endian) beside `.data` files holding the
/// video's bytes at their own offsets. A record with a bad CRC is one the cache discards.
enum CacheAudit {
    struct Result: CustomStringConvertible {
        var records = 0
        var discardedRecords = 0
        /// Records of files not complete yet (downloads a kill interrupted).
        var partialRecords = 0
        var blocks = 0
        var mismatchedBlocks = 0
        var bytes: Int64 = 0
        var description: String {
            "\(records) records (\(discardedRecords) discarded, \(partialRecords) partial), \(blocks) complete blocks, \(bytes) bytes checked, \(mismatchedBlocks) wrong"
        }
    }

    struct Unreadable: Error { let path: String }

    /// True once the cache holds at least one block record.
    static func hasRecord(cache: String) -> Bool {
        guard let walker = FileManager.default.enumerator(atPath: cache + "/v1") else { return false }
        while let relative = walker.nextObject() as? String {
            if relative.hasSuffix(".blocks") { return true }
        }
        return false
    }

    static func verify(cache: String, sources: [String: [UInt8]]) throws -> Result {
        var result = Result()
        let root = cache + "/v1"
        guard let walker = FileManager.default.enumerator(atPath: root) else { return result }
        while let relative = walker.nextObject() as? String {
            guard relative.hasSuffix(".blocks") else { continue }
            let name = (relative as NSString).lastPathComponent
            let stem = String(name.dropLast(".blocks".count))
            guard let dot = stem.lastIndex(of: "."), let size = Int64(stem[stem.index(after: dot)...]),
                  let videoNo = String(stem[..<dot]).removingPercentEncoding, let source = sources[videoNo] else { continue }
            let record = [UInt8](FileManager.default.contents(atPath: root + "/" + relative) ?? Data())
            result.records += 1
            guard record.count >= 28, Array(record[0..<8]) == Array("MAVIBLK1".utf8) else {
                result.discardedRecords += 1
                continue
            }
            let blockSize = Int(le(record, 8, 4)), fileSize = Int64(le(record, 12, 8)), count = Int(le(record, 20, 4))
            let bitmapLength = (count + 7) / 8
            guard record.count == 24 + bitmapLength + 4, UInt32(le(record, 24 + bitmapLength, 4)) == crc32(record[0..<(24 + bitmapLength)]),
                  fileSize == size, fileSize == Int64(source.count), blockSize > 0 else {
                result.discardedRecords += 1
                continue
            }
            let dataPath = root + "/" + String(relative.dropLast(".blocks".count)) + ".data"
            guard let handle = FileHandle(forReadingAtPath: dataPath) else { throw Unreadable(path: dataPath) }
            let present = (0..<count).filter { record[24 + $0 / 8] & (1 << ($0 % 8)) != 0 }.count
            if present < count { result.partialRecords += 1 }
            defer { try? handle.close() }
            for block in 0..<count where record[24 + block / 8] & (1 << (block % 8)) != 0 {
                let start = block * blockSize, end = min(start + blockSize, source.count)
                try handle.seek(toOffset: UInt64(start))
                let bytes = [UInt8](try handle.read(upToCount: end - start) ?? Data())
                result.blocks += 1
                result.bytes += Int64(end - start)
                if bytes != Array(source[start..<end]) { result.mismatchedBlocks += 1 }
            }
        }
        return result
    }

    private static func le(_ bytes: [UInt8], _ offset: Int, _ count: Int) -> UInt64 {
        (0..<count).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }

    /// CRC-32 (IEEE 802.3, reflected), as zlib computes it.
    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
