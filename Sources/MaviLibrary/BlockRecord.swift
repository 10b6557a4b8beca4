/// The persisted list of a cache file's complete blocks.
///
/// Layout (little-endian): `MAVIBLK1`, block size (UInt32), file size (UInt64), block count
/// (UInt32), one bit per block, CRC-32 of everything before it. A record that is short, damaged,
/// or describes another geometry decodes as `nil`, and the cache file is then discarded: a block
/// is only ever served when an intact record says it is complete.
struct BlockRecord: Equatable {
    static let magic: [UInt8] = Array("MAVIBLK1".utf8)

    var geometry: BlockGeometry
    var present: BlockBitmap

    func encoded() -> [UInt8] {
        var bytes = Self.magic
        bytes.reserveCapacity(Self.magic.count + 20 + present.bytes.count)
        bytes.appendLittleEndian(UInt32(geometry.blockSize))
        bytes.appendLittleEndian(UInt64(geometry.fileSize))
        bytes.appendLittleEndian(UInt32(geometry.blockCount))
        bytes += present.bytes
        bytes.appendLittleEndian(CRC32.checksum(bytes))
        return bytes
    }

    init(geometry: BlockGeometry, present: BlockBitmap) {
        self.geometry = geometry
        self.present = present
    }

    init?(decoding bytes: [UInt8]) {
        let header = Self.magic.count + 16
        guard bytes.count >= header + 4, Array(bytes[0..<Self.magic.count]) == Self.magic else { return nil }
        let blockSize = Int(bytes.littleEndian(UInt32.self, at: 8))
        let fileSize = Int64(bitPattern: bytes.littleEndian(UInt64.self, at: 12))
        let blockCount = Int(bytes.littleEndian(UInt32.self, at: 20))
        guard blockSize > 0, fileSize >= 0 else { return nil }
        let geometry = BlockGeometry(fileSize: fileSize, blockSize: blockSize)
        let bitmapLength = (blockCount + 7) / 8
        guard geometry.blockCount == blockCount, bytes.count == header + bitmapLength + 4 else { return nil }
        let stored = bytes.littleEndian(UInt32.self, at: header + bitmapLength)
        guard CRC32.checksum(bytes[0..<(header + bitmapLength)]) == stored else { return nil }
        self.geometry = geometry
        present = BlockBitmap(count: blockCount, bytes: Array(bytes[header..<(header + bitmapLength)]))
    }
}

/// One bit per block.
struct BlockBitmap: Equatable {
    let count: Int
    private(set) var bytes: [UInt8]

    init(count: Int) {
        self.count = count
        bytes = [UInt8](repeating: 0, count: (count + 7) / 8)
    }

    init(count: Int, bytes: [UInt8]) {
        self.count = count
        self.bytes = bytes
        // Bits past the last block mean nothing; clear them so equal sets compare equal.
        if count % 8 != 0, !bytes.isEmpty { self.bytes[self.bytes.count - 1] &= UInt8((1 << (count % 8)) - 1) }
    }

    subscript(block: Int) -> Bool {
        get { bytes[block >> 3] & (1 << UInt8(block & 7)) != 0 }
        set {
            if newValue { bytes[block >> 3] |= 1 << UInt8(block & 7) } else { bytes[block >> 3] &= ~(1 << UInt8(block & 7)) }
        }
    }

    var setCount: Int { bytes.reduce(0) { $0 + $1.nonzeroBitCount } }
}

extension Array where Element == UInt8 {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    func littleEndian<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        var value = T.zero
        for i in 0..<MemoryLayout<T>.size { value |= T(self[offset + i]) << (8 * i) }
        return value
    }
}
