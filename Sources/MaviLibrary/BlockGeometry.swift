/// How a file of `fileSize` bytes divides into blocks of `blockSize` (the last one may be short).
struct BlockGeometry: Sendable, Equatable {
    let fileSize: Int64
    let blockSize: Int

    var blockCount: Int {
        fileSize == 0 ? 0 : Int((fileSize + Int64(blockSize) - 1) / Int64(blockSize))
    }

    func start(of block: Int) -> Int64 { Int64(block) * Int64(blockSize) }

    func end(of block: Int) -> Int64 { min(start(of: block) + Int64(blockSize), fileSize) }

    func length(of block: Int) -> Int64 { end(of: block) - start(of: block) }

    func block(containing offset: Int64) -> Int { Int(offset / Int64(blockSize)) }

    /// The blocks that hold any byte of `range` (empty for an empty range).
    func blocks(covering range: Range<Int64>) -> ClosedRange<Int>? {
        guard !range.isEmpty, range.lowerBound < fileSize else { return nil }
        return block(containing: range.lowerBound)...block(containing: min(range.upperBound, fileSize) - 1)
    }
}
