import Foundation
import MaviAPI
import MaviClient
import MaviLibrary
import Thumbnails

/// A directory of the mount. Leaf views list videos; the others list sub-directories.
///
/// ```
/// all/                        every video
/// by-status/PARSE/ UNPARSE/ FAIL/
/// by-tag/<tag>/
/// by-camera/<camera_model>/
/// by-date/<yyyy>/<mm>/<dd>/   capture date (datetime_taken, else upload time), local time zone
/// by-id/<video_no>.<ext>
/// ```
public enum View: Hashable, Sendable {
    case root
    case all
    case statuses
    case status(String)
    case tags
    case tag(String)
    case cameras
    case camera(String)
    case years
    case year(Int)
    case month(Int, Int)
    case day(Int, Int, Int)
    case byID
    /// `.covers/<video_no>.jpg`: each video's cover frame, for thumbnails. Hidden by its dot name.
    case covers
    /// `.sh_thumbnails/` in a folder of videos: a shared thumbnail repository, made on the fly from
    /// the covers, for file managers that read one (Thunar). Found by name, never listed.
    indirect case sharedThumbnails(View)
    /// `.sh_thumbnails/normal/` and `large/`: `<md5 of the file name>.png` for each video of the folder.
    indirect case sharedThumbnailSize(View, ThumbnailSize)
    /// `search/` (words, `.words`) and `search/said/` (exact phrases of speech, `.phrase`): the
    /// searches run since the mount.
    case searches(SearchKey.Kind)
    /// The hits of one search, best first, and its `hits.m3u`.
    case searchHits(SearchKey)

    /// The fixed top-level directories, in listing order.
    static let topLevel: [(String, View)] = [
        ("all", .all), ("by-status", .statuses), ("by-tag", .tags), ("by-camera", .cameras), ("by-date", .years), ("by-id", .byID),
    ]

    /// True when the directory lists video files.
    var listsVideos: Bool {
        switch self {
        case .all, .status, .tag, .camera, .day, .byID: true
        default: false
        }
    }

    /// True when the directory shows video files: the listed views, and a search's hits.
    var showsVideoFiles: Bool {
        if case .searchHits = self { return true }
        return listsVideos
    }

    /// Files in `by-id` are named by video_no, so scripts get names that never change.
    var namesByID: Bool { self == .byID }

    /// The `list_videos` filter this view stands for, as the API defines it. For a `by-date` day
    /// that is `datetime_taken` at or after the day's start, with the day's end applied locally;
    /// the mount answers days from the full listing rather than asking (see `videoItems(in:)`).
    func filter(calendar: Calendar) -> VideoFilter? {
        switch self {
        case .all, .byID: VideoFilter()
        case .status(let s): VideoFilter(status: VideoStatus(wireValue: s))
        case .tag(let t): VideoFilter(tag: t)
        case .camera(let c): VideoFilter(cameraModel: c)
        case .day(let y, let m, let d):
            DayRange(year: y, month: m, day: d, calendar: calendar).map { VideoFilter(takenAtOrAfter: $0.startMilliseconds) }
        default: nil
        }
    }
}

/// One calendar day in the local time zone, as epoch milliseconds.
struct DayRange: Sendable {
    let startMilliseconds: Int64
    let endMilliseconds: Int64

    init?(year: Int, month: Int, day: Int, calendar: Calendar) {
        guard let start = calendar.date(from: DateComponents(year: year, month: month, day: day)),
              calendar.component(.day, from: start) == day,
              let end = calendar.date(byAdding: .day, value: 1, to: start) else { return nil }
        startMilliseconds = Int64(start.timeIntervalSince1970 * 1000)
        endMilliseconds = Int64(end.timeIntervalSince1970 * 1000)
    }

    func contains(_ ms: Int64) -> Bool { ms >= startMilliseconds && ms < endMilliseconds }
}

extension Video {
    /// Capture time if known, else upload time (milliseconds): what `by-date` and mtime use.
    var displayTimeMilliseconds: Int64? { datetimeTaken ?? createTime }
}

/// (year, month, day) of a time in the local calendar.
func calendarDay(_ ms: Int64, _ calendar: Calendar) -> (Int, Int, Int) {
    let c = calendar.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: Double(ms) / 1000))
    return (c.year ?? 1970, c.month ?? 1, c.day ?? 1)
}
