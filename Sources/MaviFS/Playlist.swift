import Foundation
import MaviAPI
import MaviLibrary

/// One video of a playlist.
struct PlaylistEntry: Sendable {
    /// Relative to the playlist.
    var path: String
    var title: String
    /// Seconds, when known.
    var duration: Int64?
    /// Where to start (and stop), when the search says.
    var clip: SearchClip?
}

/// Extended M3U, which VLC, mpv, Celluloid, Kodi and most players read.
enum Playlist {
    /// `#EXTINF` gives each entry's length and a title with the clip's times and score; VLC also
    /// starts (and stops) at the clip through `#EXTVLCOPT:start-time=`/`stop-time=`, which other
    /// players skip as comments. mpv has no per-entry start time in M3U: it plays each video from
    /// its beginning, and the title says where the hit is.
    static func m3u(_ entries: [PlaylistEntry]) -> String {
        var out = "#EXTM3U\n"
        for entry in entries {
            var title = entry.title
            if let clip = entry.clip {
                title += " [" + WireSeconds.text(clip.start) + "s"
                if let end = clip.end, end > clip.start { title += "–" + WireSeconds.text(end) + "s" }
                if let score = clip.score { title += ", score " + String(format: "%.2f", score) }
                title += "]"
            }
            // A title runs to the end of its line.
            title = title.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
            out += "#EXTINF:\(entry.duration.map(String.init) ?? "-1"),\(title)\n"
            if let clip = entry.clip {
                out += "#EXTVLCOPT:start-time=\(WireSeconds.text(clip.start))\n"
                if let end = clip.end, end > clip.start { out += "#EXTVLCOPT:stop-time=\(WireSeconds.text(end))\n" }
            }
            // Names start with the rank's digits, never with `#`: no line is read as a comment.
            out += entry.path + "\n"
        }
        return out
    }
}
