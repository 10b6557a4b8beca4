import MaviAPI

/// A listing's videos packed for memory: their numbers in ``PackedStrings`` (which finds a
/// video by number), every other text in one byte array, and the rest in one small row each. A
/// ``Video`` is made when one is asked for.
///
/// A `[Video]` costs about 300 bytes a video before its texts, each text and each tag list a heap
/// allocation of its own: 560 bytes a video at 100,000, half a gigabyte at a million. Packed, a
/// video costs its row (about 100 bytes), its texts' bytes, and 8 bytes of index.
///
/// Immutable and shared: copies share one storage, so handing a listing on copies nothing.
public struct VideoTable: Sendable {
    fileprivate let storage: Storage

    public init() {
        storage = Builder().storage()
    }

    public init(_ videos: some Sequence<Video>) {
        var builder = Builder()
        for video in videos { builder.append(video) }
        storage = builder.storage()
    }

    fileprivate init(storage: Storage) {
        self.storage = storage
    }

    /// The video numbered `videoNo`, if listed; its first place when listed twice.
    public func position(of videoNo: String) -> Int? {
        storage.numbers.firstPosition(of: videoNo)
    }

    public func videoNo(at position: Int) -> String { storage.numbers[position] }
    public func videoName(at position: Int) -> String { storage.text(.videoName, position) }
    public func size(at position: Int) -> Int64? { storage.number(.size, position) }
    public func createTime(at position: Int) -> Int64? { storage.number(.createTime, position) }
    public func datetimeTaken(at position: Int) -> Int64? { storage.number(.datetimeTaken, position) }
    public func status(at position: Int) -> VideoStatus { VideoStatus(wireValue: storage.text(.status, position)) }
    public func cameraModel(at position: Int) -> String? { storage.optionalText(.cameraModel, position) }
    public func tags(at position: Int) -> [String] { TagList.decode(storage.text(.tags, position)) ?? [] }
    public func hasCover(at position: Int) -> Bool { storage.isPresent(.coverURL, position) }
    /// Capture time if known, else upload time (milliseconds).
    public func displayTime(at position: Int) -> Int64? { datetimeTaken(at: position) ?? createTime(at: position) }

    /// Whether `other` is this very table (one storage), not only equal to it.
    public func isSameStorage(as other: VideoTable) -> Bool { storage === other.storage }

    /// The videos for which `keep` holds of their position, in order, copied as they are packed.
    public func keeping(where keep: (Int) -> Bool) -> VideoTable {
        // No room reserved: what is kept may be a handful of a million.
        var builder = Builder()
        // Runs of kept videos are copied whole: dropping one video of a million is two copies.
        var run: Int?
        for position in indices {
            if keep(position) {
                if run == nil { run = position }
            } else if let start = run {
                builder.append(rows: start..<position, of: self)
                run = nil
            }
        }
        if let start = run { builder.append(rows: start..<count, of: self) }
        return VideoTable(storage: builder.storage())
    }
}

extension VideoTable: RandomAccessCollection {
    public var startIndex: Int { 0 }
    public var endIndex: Int { storage.rows.count }

    public subscript(position: Int) -> Video {
        let s = storage
        return Video(
            videoNo: s.numbers[position], videoName: s.text(.videoName, position),
            duration: s.number(.duration, position), size: s.number(.size, position),
            status: VideoStatus(wireValue: s.text(.status, position)), cause: s.optionalText(.cause, position),
            createTime: s.number(.createTime, position), datetimeTaken: s.number(.datetimeTaken, position),
            cameraModel: s.optionalText(.cameraModel, position), latitude: s.real(.latitude, position),
            longitude: s.real(.longitude, position), tags: tags(at: position), videoURL: s.optionalText(.videoURL, position),
            coverURL: s.optionalText(.coverURL, position), bucket: s.optionalText(.bucket, position),
            blob: s.optionalText(.blob, position), fps: s.real(.fps, position), width: s.number(.width, position).map(Int.init),
            height: s.number(.height, position).map(Int.init), resolutionLabel: s.optionalText(.resolutionLabel, position)
        )
    }
}

extension VideoTable: Equatable {
    /// The same videos in the same order: the same packed bytes.
    public static func == (a: VideoTable, b: VideoTable) -> Bool {
        a.storage === b.storage
            || (a.storage.rows == b.storage.rows && a.storage.numbers == b.storage.numbers && a.storage.bytes == b.storage.bytes)
    }
}

extension VideoTable {
    /// Packs videos one after the other.
    public struct Builder {
        fileprivate var bytes: [UInt8] = []
        fileprivate var rows: [PackedRow] = []
        fileprivate var numbers = PackedStrings()

        public init() {}

        public init(capacity: Int) {
            reserve(capacity)
        }

        public var count: Int { rows.count }

        /// Whether a video numbered `videoNo` has been appended.
        public func contains(_ videoNo: String) -> Bool {
            numbers.firstPosition(of: videoNo) != nil
        }

        public mutating func reserve(_ videos: Int) {
            rows.reserveCapacity(videos)
            numbers.reserve(videos)
        }

        public mutating func append(_ video: Video) {
            append(video, encodedTags: TagList.encode(video.tags))
        }

        /// `video` with its tags as ``TagList`` wrote them (its `tags` are not read): a stored
        /// listing's column goes in as it is, never made into strings and back.
        mutating func append(_ video: Video, encodedTags: String) {
            var row = PackedRow(start: bytes.count)
            func put(_ field: TextField, _ text: String?) {
                if let text {
                    row.present |= field.bit
                    bytes.append(contentsOf: text.utf8)
                }
                row.ends[field.rawValue] = UInt32(bytes.count - row.start)
            }
            numbers.append(video.videoNo)
            put(.videoName, video.videoName)
            put(.status, StoredStatus.text(video.status))
            put(.cause, video.cause)
            put(.cameraModel, video.cameraModel)
            put(.tags, encodedTags)
            put(.videoURL, video.videoURL)
            put(.coverURL, video.coverURL)
            put(.bucket, video.bucket)
            put(.blob, video.blob)
            put(.resolutionLabel, video.resolutionLabel)
            func put(_ field: NumberField, _ value: Int64?) {
                if let value { row.present |= field.bit }
                row.numbers[field.rawValue] = value ?? 0
            }
            put(.duration, video.duration)
            put(.size, video.size)
            put(.createTime, video.createTime)
            put(.datetimeTaken, video.datetimeTaken)
            put(.width, video.width.map(Int64.init))
            put(.height, video.height.map(Int64.init))
            func put(_ field: RealField, _ value: Double?) {
                if let value { row.present |= field.bit }
                row.reals[field.rawValue] = value ?? 0
            }
            put(.latitude, video.latitude)
            put(.longitude, video.longitude)
            put(.fps, video.fps)
            rows.append(row)
        }

        public mutating func append(contentsOf videos: some Sequence<Video>) {
            for video in videos { append(video) }
        }

        /// The video at `position` of `table`, copied packed.
        public mutating func append(row position: Int, of table: VideoTable) {
            let source = table.storage
            var row = source.rows[position]
            let length = source.rowLength(position)
            bytes.append(contentsOf: source.bytes[row.start..<(row.start + length)])
            row.start = bytes.count - length
            rows.append(row)
            numbers.append(position..<(position + 1), of: source.numbers)
        }

        /// The videos at `positions` of `table`, copied packed.
        public mutating func append(rows positions: Range<Int>, of table: VideoTable) {
            guard !positions.isEmpty else { return }
            let source = table.storage
            let from = source.rows[positions.lowerBound].start
            let to = source.rows[positions.upperBound - 1].start + source.rowLength(positions.upperBound - 1)
            let shift = bytes.count - from
            bytes.append(contentsOf: source.bytes[from..<to])
            let first = rows.count
            rows.append(contentsOf: source.rows[positions])
            for i in first..<rows.count { rows[i].start += shift }
            numbers.append(positions, of: source.numbers)
        }

        public func build() -> VideoTable {
            VideoTable(storage: storage())
        }

        fileprivate func storage() -> Storage {
            var numbers = numbers
            numbers.fit()
            return Storage(bytes: fitted(bytes), rows: fitted(rows), numbers: numbers)
        }
    }
}

/// Texts of a video, in the order they are packed.
private enum TextField: Int, CaseIterable {
    case videoName, status, cause, cameraModel, tags, videoURL, coverURL, bucket, blob, resolutionLabel
    var bit: UInt32 { 1 << UInt32(rawValue) }
}

private enum NumberField: Int {
    case duration, size, createTime, datetimeTaken, width, height
    var bit: UInt32 { 1 << UInt32(16 + rawValue) }
}

private enum RealField: Int {
    case latitude, longitude, fps
    var bit: UInt32 { 1 << UInt32(24 + rawValue) }
}

/// One video's numbers, and where its texts end in the byte array (from its `start`).
private struct PackedRow: Equatable {
    var start: Int
    var present: UInt32 = 0
    var ends = InlineValues<(UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32), UInt32>(zero: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    var numbers = InlineValues<(Int64, Int64, Int64, Int64, Int64, Int64), Int64>(zero: (0, 0, 0, 0, 0, 0))
    var reals = InlineValues<(Double, Double, Double), Double>(zero: (0, 0, 0))

    init(start: Int) {
        self.start = start
    }
}

/// A fixed number of values kept inline in a row (no allocation per video), in a tuple of
/// `Element`s: the ends of a row's texts, its integers, its reals.
private struct InlineValues<Tuple: BitwiseCopyable & Sendable, Element: BitwiseCopyable>: Equatable, Sendable {
    private var storage: Tuple

    init(zero: Tuple) {
        storage = zero
    }

    subscript(i: Int) -> Element {
        get { withUnsafeBytes(of: storage) { $0.load(fromByteOffset: i * MemoryLayout<Element>.stride, as: Element.self) } }
        set { withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: newValue, toByteOffset: i * MemoryLayout<Element>.stride, as: Element.self) } }
    }

    /// Bit for bit (a tuple of one type has no padding): two tables are equal when they were
    /// packed the same.
    static func == (a: Self, b: Self) -> Bool {
        withUnsafeBytes(of: a.storage) { x in withUnsafeBytes(of: b.storage) { y in x.elementsEqual(y) } }
    }
}

/// The packed numbers, texts and rows.
private final class Storage: Sendable {
    let bytes: [UInt8]
    let rows: [PackedRow]
    let numbers: PackedStrings

    init(bytes: [UInt8], rows: [PackedRow], numbers: PackedStrings) {
        self.bytes = bytes
        self.rows = rows
        self.numbers = numbers
    }

    var hasDuplicates: Bool { numbers.hasDuplicates }

    fileprivate static func range(_ field: TextField, of row: PackedRow) -> Range<Int> {
        let from = field.rawValue == 0 ? 0 : Int(row.ends[field.rawValue - 1])
        return (row.start + from)..<(row.start + Int(row.ends[field.rawValue]))
    }

    func rowLength(_ position: Int) -> Int { Int(rows[position].ends[TextField.allCases.count - 1]) }

    fileprivate func text(_ field: TextField, _ position: Int) -> String {
        String(decoding: bytes[Storage.range(field, of: rows[position])], as: UTF8.self)
    }

    fileprivate func textEquals(_ field: TextField, _ position: Int, _ text: String) -> Bool {
        bytes[Storage.range(field, of: rows[position])].elementsEqual(text.utf8)
    }

    fileprivate func optionalText(_ field: TextField, _ position: Int) -> String? {
        rows[position].present & field.bit == 0 ? nil : text(field, position)
    }

    fileprivate func isPresent(_ field: TextField, _ position: Int) -> Bool {
        rows[position].present & field.bit != 0
    }

    fileprivate func number(_ field: NumberField, _ position: Int) -> Int64? {
        let row = rows[position]
        return row.present & field.bit == 0 ? nil : row.numbers[field.rawValue]
    }

    fileprivate func real(_ field: RealField, _ position: Int) -> Double? {
        let row = rows[position]
        return row.present & field.bit == 0 ? nil : row.reals[field.rawValue]
    }
}

/// A status as its spelling, which reads back as the same status (an unknown failure spelling is
/// kept as it came).
enum StoredStatus {
    static func text(_ status: VideoStatus) -> String {
        if case .failed(let spelling) = status { return spelling }
        return status.wireValue
    }
}

extension VideoTable {
    /// The table without the videos numbered in `videoNos`; the table itself when it lists none
    /// of them. Few numbers are found by the index, without making each video's number.
    public func removing(_ videoNos: Set<String>) -> VideoTable {
        let positions: Set<Int>
        if videoNos.count <= Swift.max(64, count / 8), !storage.hasDuplicates {
            positions = Set(videoNos.compactMap { position(of: $0) })
        } else {
            positions = Set(indices.filter { videoNos.contains(videoNo(at: $0)) })
        }
        guard !positions.isEmpty else { return self }
        return keeping { !positions.contains($0) }
    }
}

extension VideoTable {
    /// Some video is listed more than once.
    public var hasDuplicates: Bool { storage.hasDuplicates }

    /// Whether the video at `position` is still processing (`UNPARSE`), without making its status.
    public func isProcessing(at position: Int) -> Bool {
        storage.textEquals(.status, position, StoredStatus.text(.unparsed))
    }

    /// The table with the videos at some positions replaced and at others dropped; the rest
    /// copied as they are packed.
    public func updating(_ replacements: [Int: Video], dropping gone: Set<Int>) -> VideoTable {
        guard !replacements.isEmpty || !gone.isEmpty else { return self }
        var builder = Builder(capacity: count)
        var run: Int?
        for position in indices {
            let replaced = replacements[position]
            if replaced == nil, !gone.contains(position) {
                if run == nil { run = position }
                continue
            }
            if let start = run { builder.append(rows: start..<position, of: self) }
            run = nil
            if let replaced { builder.append(replaced) }
        }
        if let start = run { builder.append(rows: start..<count, of: self) }
        return builder.build()
    }
}
