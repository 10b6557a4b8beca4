import Foundation
import MaviAPI

extension MediaProbe {
    /// The cues of the file's subtitle stream `track.subtitleStream`, converted to SRT by ffmpeg
    /// (any text subtitle codec it reads: mov_text, SubRip, ASS, WebVTT). Nil when the file has no
    /// such stream or ffmpeg cannot convert it (a bitmap subtitle track).
    func subtitles(of path: String, track: TranscriptTrack) async -> [TranscriptSegment]? {
        guard let output = try? await ProcessRunner.run(ffmpeg, [
            "-v", "error", "-nostdin", "-i", path, "-map", "0:s:\(track.subtitleStream)", "-c:s", "srt", "-f", "srt", "-",
        ]), output.status == 0 else { return nil }
        let cues = SubRip.parse(String(decoding: output.stdout, as: UTF8.self))
        return cues.isEmpty ? nil : cues
    }
}
