import Foundation

/// Where a library keeps its parts on disk:
///
///     DIR/library.sqlite            metadata (GRDB)
///     DIR/api-key                   generated key, mode 0600 (only when no key was given)
///     DIR/videos/<ns-dir>/<video_no>.<ext>
///     DIR/covers/<ns-dir>/<video_no>.jpg
///     DIR/tmp/                      uploads in progress, moved into place when complete
///
/// `<ns-dir>` is the namespace itself when it is a safe file name, otherwise a generated name kept
/// in the database (see `NamespaceRecord.directoryName(for:)`), so a `unique_id` can never escape
/// the library.
struct LibraryLayout: Sendable {
    let root: String

    init(root: String) {
        self.root = (root as NSString).standardizingPath
    }

    var database: String { root + "/library.sqlite" }
    var keyFile: String { root + "/api-key" }
    var videosRoot: String { root + "/videos" }
    var coversRoot: String { root + "/covers" }
    var temporary: String { root + "/tmp" }

    func videoFile(directory: String, videoNo: String, fileExtension: String) -> String {
        "\(videosRoot)/\(directory)/\(videoNo).\(fileExtension)"
    }

    func coverFile(directory: String, videoNo: String) -> String {
        "\(coversRoot)/\(directory)/\(videoNo).jpg"
    }

    func newTemporaryFile() -> String {
        "\(temporary)/\(UUID().uuidString).part"
    }

    /// Creates the directories the library needs, and empties `tmp/` of uploads a previous run
    /// left unfinished.
    func prepare() throws {
        let fm = FileManager.default
        for dir in [root, videosRoot, coversRoot, temporary] {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        for leftover in (try? fm.contentsOfDirectory(atPath: temporary)) ?? [] {
            try? fm.removeItem(atPath: "\(temporary)/\(leftover)")
        }
    }

    func ensureDirectory(forFile path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    }
}
