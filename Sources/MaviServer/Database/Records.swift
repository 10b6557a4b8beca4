import GRDB

/// A namespace (`unique_id`): created on first use, with the directory its files live in and the
/// secret token that makes its file URLs unguessable.
struct NamespaceRecord: Codable, FetchableRecord, PersistableRecord, Sendable, Equatable {
    static let databaseTableName = "namespace"

    var name: String
    var directory: String
    var fileToken: String
    var createdAt: Int64

    enum CodingKeys: String, CodingKey {
        case name, directory, fileToken = "file_token", createdAt = "created_at"
    }

    enum Columns {
        static let name = Column(CodingKeys.name)
        static let fileToken = Column(CodingKeys.fileToken)
    }

    /// A directory name for `namespace`: itself when it is a plain file name, otherwise a name made
    /// from the token. `~` cannot start a plain name, so the two kinds never collide.
    static func directoryName(for namespace: String, token: String) -> String {
        let plain = namespace.utf8.count <= 64 && !namespace.hasPrefix(".") && !namespace.isEmpty
            && namespace.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || "._-".unicodeScalars.contains($0) }
        return plain ? namespace : "~" + token.prefix(16)
    }
}

/// One stored video. Capture metadata is kept as uploaded; the API shows it (and the tags) only
/// once the video is parsed, as the live service does.
struct VideoRecord: FetchableRecord, PersistableRecord, Sendable, Equatable {
    static let databaseTableName = "video"

    var videoNo: String
    var namespace: String
    var videoName: String
    /// Extension of the stored file, lower case, without the dot.
    var fileExtension: String
    var size: Int64
    /// `PARSE`, `UNPARSE` or `FAIL`.
    var status: String
    var cause: String?
    /// Upload time, ms since the epoch.
    var createTime: Int64
    /// Seconds.
    var duration: Int64?
    var fps: Double?
    var width: Int?
    var height: Int?
    /// Capture time, ms since the epoch.
    var datetimeTaken: Int64?
    var cameraModel: String?
    var latitude: Double?
    var longitude: Double?
    var callbackURL: String?
    /// `retain_original_video` from the upload: when false the original is dropped once parsed.
    var retainOriginal: Bool
    /// Whether the original file is on disk (downloadable, has a `video_url`).
    var hasOriginal: Bool
    var hasCover: Bool
    /// For `upload_url`: where the original is fetched from.
    var sourceURL: String?
    /// User tags in upload order, then `api` once parsed. Kept here so a page of videos is read in
    /// one query; `video_tag` holds the same tags indexed, for the `tag` filter.
    var tags: [String]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case videoNo = "video_no", namespace, videoName = "video_name", fileExtension = "file_extension"
        case size, status, cause, createTime = "create_time", duration, fps, width, height
        case datetimeTaken = "datetime_taken", cameraModel = "camera_model", latitude, longitude
        case callbackURL = "callback_url", retainOriginal = "retain_original", hasOriginal = "has_original"
        case hasCover = "has_cover", sourceURL = "source_url", tags
    }

    enum Columns {
        static let videoNo = Column(CodingKeys.videoNo)
        static let namespace = Column(CodingKeys.namespace)
        static let videoName = Column(CodingKeys.videoName)
        static let status = Column(CodingKeys.status)
        static let createTime = Column(CodingKeys.createTime)
        static let cameraModel = Column(CodingKeys.cameraModel)
        static let datetimeTaken = Column(CodingKeys.datetimeTaken)
        static let latitude = Column(CodingKeys.latitude)
        static let longitude = Column(CodingKeys.longitude)
        static let hasOriginal = Column(CodingKeys.hasOriginal)
    }

    /// The name clients see for the stored file, also its `blob`.
    var fileName: String { "\(videoNo).\(fileExtension)" }
}

extension VideoRecord {
    /// Selected explicitly, in `CodingKeys` order, so `init(row:)` can read by position.
    static var databaseSelection: [any SQLSelectable] { CodingKeys.allCases.map { Column($0) } }

    /// Reads columns by position (see `databaseSelection`): listing decodes 200 rows a page, and
    /// looking each column up by name, as the Decodable path does, is much of that cost.
    init(row: Row) throws {
        videoNo = row[0]
        namespace = row[1]
        videoName = row[2]
        fileExtension = row[3]
        size = row[4]
        status = row[5]
        cause = row[6]
        createTime = row[7]
        duration = row[8]
        fps = row[9]
        width = row[10]
        height = row[11]
        datetimeTaken = row[12]
        cameraModel = row[13]
        latitude = row[14]
        longitude = row[15]
        callbackURL = row[16]
        retainOriginal = row[17]
        hasOriginal = row[18]
        hasCover = row[19]
        sourceURL = row[20]
        tags = Self.tags(fromColumn: row[21])
    }

    func encode(to container: inout PersistenceContainer) {
        container[CodingKeys.videoNo.rawValue] = videoNo
        container[CodingKeys.namespace.rawValue] = namespace
        container[CodingKeys.videoName.rawValue] = videoName
        container[CodingKeys.fileExtension.rawValue] = fileExtension
        container[CodingKeys.size.rawValue] = size
        container[CodingKeys.status.rawValue] = status
        container[CodingKeys.cause.rawValue] = cause
        container[CodingKeys.createTime.rawValue] = createTime
        container[CodingKeys.duration.rawValue] = duration
        container[CodingKeys.fps.rawValue] = fps
        container[CodingKeys.width.rawValue] = width
        container[CodingKeys.height.rawValue] = height
        container[CodingKeys.datetimeTaken.rawValue] = datetimeTaken
        container[CodingKeys.cameraModel.rawValue] = cameraModel
        container[CodingKeys.latitude.rawValue] = latitude
        container[CodingKeys.longitude.rawValue] = longitude
        container[CodingKeys.callbackURL.rawValue] = callbackURL
        container[CodingKeys.retainOriginal.rawValue] = retainOriginal
        container[CodingKeys.hasOriginal.rawValue] = hasOriginal
        container[CodingKeys.hasCover.rawValue] = hasCover
        container[CodingKeys.sourceURL.rawValue] = sourceURL
        container[CodingKeys.tags.rawValue] = tags.joined(separator: Self.tagSeparator)
    }

    /// Tags never contain control characters (uploads drop them), so one can separate them.
    static let tagSeparator = "\u{1F}"

    static func tags(fromColumn text: String) -> [String] {
        text.isEmpty ? [] : text.components(separatedBy: tagSeparator)
    }
}

/// One tag of a video, in upload order (`position`).
struct VideoTagRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "video_tag"

    var videoNo: String
    var position: Int
    var tag: String

    enum CodingKeys: String, CodingKey { case videoNo = "video_no", position, tag }
}
