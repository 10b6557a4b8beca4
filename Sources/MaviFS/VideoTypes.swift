/// The video file extensions the mount names files with, and the MIME type each stands for.
///
/// File managers take a file's type from its name when the name settles it, and read the file
/// to find out when it does not: an extension outside this table (or none) would make them
/// download a video just to browse its folder, so such a video is named `.mp4`.
enum VideoTypes {
    static let mimeTypes: [String: String] = [
        "mp4": "video/mp4", "m4v": "video/mp4", "mov": "video/quicktime", "qt": "video/quicktime",
        "mkv": "video/x-matroska", "webm": "video/webm", "avi": "video/x-msvideo", "wmv": "video/x-ms-wmv",
        "flv": "video/x-flv", "mpg": "video/mpeg", "mpeg": "video/mpeg", "ts": "video/mp2t", "mts": "video/mp2t",
        "m2ts": "video/mp2t", "3gp": "video/3gpp", "3g2": "video/3gpp2", "ogv": "video/ogg",
    ]

    static let fallbackExtension = "mp4"

    /// The MIME type of a name the mount gave (its extension is always one of the table's).
    static func mimeType(ofExtension ext: String) -> String {
        mimeTypes[ext.lowercased()] ?? "video/mp4"
    }
}
