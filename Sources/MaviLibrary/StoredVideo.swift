import GRDB
import MaviAPI

/// How a ``Video`` is laid out in a row of the listing store: one column per field, so that a
/// listing is read back by position, with no decoder in between.
enum StoredVideo {
    /// Column names and types, in the order rows are read.
    private static let columns: [(name: String, type: String)] = [
        ("position", "INTEGER PRIMARY KEY"), ("video_no", "TEXT NOT NULL"), ("video_name", "TEXT NOT NULL"),
        ("duration", "INTEGER"), ("size", "INTEGER"), ("status", "TEXT NOT NULL"), ("cause", "TEXT"),
        ("create_time", "INTEGER"), ("datetime_taken", "INTEGER"), ("camera_model", "TEXT"),
        ("latitude", "REAL"), ("longitude", "REAL"), ("tags", "TEXT NOT NULL"), ("video_url", "TEXT"),
        ("cover_url", "TEXT"), ("bucket", "TEXT"), ("blob", "TEXT"), ("fps", "REAL"), ("width", "INTEGER"),
        ("height", "INTEGER"), ("resolution_label", "TEXT"),
    ]

    static let columnDefinitions = columns.map { "\($0.name) \($0.type)" }.joined(separator: ", ")
    static let columnNames = columns.map(\.name).joined(separator: ", ")
    static let insertSQL = "INSERT INTO videos (\(columnNames)) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))"

    static func arguments(_ video: Video, position: Int) -> StatementArguments {
        let values: [(any DatabaseValueConvertible)?] = [
            position, video.videoNo, video.videoName, video.duration, video.size, StoredStatus.text(video.status), video.cause,
            video.createTime, video.datetimeTaken, video.cameraModel, video.latitude, video.longitude,
            TagList.encode(video.tags), video.videoURL, video.coverURL, video.bucket, video.blob, video.fps, video.width,
            video.height, video.resolutionLabel,
        ]
        return StatementArguments(values)
    }

    /// The video of a row read with ``columnNames``; a value of the wrong kind throws (a damaged
    /// row is never read as some other video).
    static func video(from row: Row) throws -> Video {
        var (video, tags) = try videoWithEncodedTags(from: row)
        video.tags = TagList.decode(tags) ?? []
        return video
    }

    /// The row packed at the end of `table`.
    static func append(_ row: Row, to table: inout VideoTable.Builder) throws {
        let (video, tags) = try videoWithEncodedTags(from: row)
        table.append(video, encodedTags: tags)
    }

    /// The video of a row without its tags, and its tags as stored (checked, not decoded).
    private static func videoWithEncodedTags(from row: Row) throws -> (Video, String) {
        func at<Value: DatabaseValueConvertible & StatementColumnConvertible>(_ index: Int) throws -> Value {
            try row.decode(Value.self, atIndex: index)
        }
        let position: Int64 = try at(0)
        let tags: String = try at(12)
        guard TagList.isWellFormed(tags) else {
            throw ListingStoreError.unreadableRow(position: position, reason: "its tags are damaged")
        }
        return (Video(
            videoNo: try at(1), videoName: try at(2), duration: try at(3), size: try at(4),
            status: VideoStatus(wireValue: try at(5)), cause: try at(6), createTime: try at(7), datetimeTaken: try at(8),
            cameraModel: try at(9), latitude: try at(10), longitude: try at(11), videoURL: try at(13),
            coverURL: try at(14), bucket: try at(15), blob: try at(16), fps: try at(17), width: try at(18),
            height: try at(19), resolutionLabel: try at(20)
        ), tags)
    }
}

/// Tags in one text column: each tag as its length in UTF-8 bytes, a colon and the tag, so any
/// text a tag holds reads back as it was.
enum TagList {
    static func encode(_ tags: [String]) -> String {
        tags.map { "\($0.utf8.count):\($0)" }.joined()
    }

    /// Whether `text` is a list this encoding wrote, without making its tags.
    static func isWellFormed(_ text: String) -> Bool {
        var bytes = Substring(text).utf8[...]
        while !bytes.isEmpty {
            // The length in digits, read without making a string of them.
            var length = 0
            var digits = 0
            var at = bytes.startIndex
            while at < bytes.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at]), digits < 18 {
                length = length * 10 + Int(bytes[at] - UInt8(ascii: "0"))
                digits += 1
                at = bytes.index(after: at)
            }
            guard digits > 0, at < bytes.endIndex, bytes[at] == UInt8(ascii: ":"),
                bytes.distance(from: bytes.index(after: at), to: bytes.endIndex) >= length
            else { return false }
            let colon = at
            let start = bytes.index(after: colon)
            let end = bytes.index(start, offsetBy: length)
            // A tag is whole characters: a length that cuts one in two (ends before a UTF-8
            // continuation byte) is damage.
            guard end == bytes.endIndex || bytes[end] & 0xC0 != 0x80 else { return false }
            bytes = bytes[end...]
        }
        return true
    }

    /// `nil` when `text` is not a list this encoding wrote.
    static func decode(_ text: String) -> [String]? {
        var tags: [String] = []
        var bytes = Substring(text).utf8[...]
        while !bytes.isEmpty {
            guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")),
                let length = Int(Substring(bytes[bytes.startIndex..<colon])), length >= 0
            else { return nil }
            let start = bytes.index(after: colon)
            guard bytes.distance(from: start, to: bytes.endIndex) >= length else { return nil }
            let end = bytes.index(start, offsetBy: length)
            guard let tag = String(bytes[start..<end]) else { return nil }
            tags.append(tag)
            bytes = bytes[end...]
        }
        return tags
    }
}
