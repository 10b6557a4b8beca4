import Foundation

/// What processing learns about a video.
struct MediaInfo: Sendable, Equatable {
    /// Seconds.
    var duration: Double
    var width: Int
    var height: Int
    var fps: Double?
}

/// Why a file is not a playable video; becomes the video's `cause`.
struct NotAVideo: Error, Equatable {
    var cause: String
}

/// Reads video properties with ffprobe and grabs a cover frame with ffmpeg.
struct MediaProbe: Sendable {
    var ffprobe: String
    var ffmpeg: String

    private struct ProbeOutput: Decodable {
        struct Stream: Decodable {
            var codec_type: String?
            var width: Int?
            var height: Int?
            var avg_frame_rate: String?
            var r_frame_rate: String?
        }
        struct Format: Decodable {
            var duration: String?
        }
        var streams: [Stream]?
        var format: Format?
    }

    func probe(_ path: String) async throws -> MediaInfo {
        let output = try await ProcessRunner.run(ffprobe, [
            "-v", "error", "-print_format", "json",
            "-show_entries", "format=duration:stream=codec_type,width,height,avg_frame_rate,r_frame_rate",
            "-select_streams", "v:0", path,
        ])
        guard output.status == 0, let parsed = try? JSONDecoder().decode(ProbeOutput.self, from: output.stdout) else {
            throw NotAVideo(cause: ServerMessages.causeNotAVideo)
        }
        guard let stream = parsed.streams?.first(where: { $0.codec_type == "video" }),
              let width = stream.width, let height = stream.height, width > 0, height > 0
        else { throw NotAVideo(cause: ServerMessages.causeNoVideoStream) }
        // A still image has a video stream but no duration: not something to play.
        guard let duration = parsed.format?.duration.flatMap(Double.init), duration.isFinite, duration > 0 else {
            throw NotAVideo(cause: ServerMessages.causeNotAVideo)
        }
        let fps = Self.frameRate(stream.avg_frame_rate) ?? Self.frameRate(stream.r_frame_rate)
        return MediaInfo(duration: duration, width: width, height: height, fps: fps)
    }

    /// Writes one JPEG frame: frame 32 as the live service typically picks, or the middle of a
    /// shorter video. Returns false when ffmpeg could not make one.
    func makeCover(of path: String, info: MediaInfo, to cover: String) async -> Bool {
        let at = min(32 / (info.fps ?? 25), info.duration / 2)
        guard let output = try? await ProcessRunner.run(ffmpeg, [
            "-v", "error", "-nostdin", "-y", "-ss", String(format: "%.3f", at), "-i", path,
            "-frames:v", "1", "-q:v", "4", "-f", "image2", cover,
        ]) else { return false }
        return output.status == 0 && FileManager.default.fileExists(atPath: cover)
    }

    /// `30000/1001` → 29.97; nil for `0/0` and nonsense.
    static func frameRate(_ text: String?) -> Double? {
        guard let text else { return nil }
        let parts = text.split(separator: "/")
        guard let num = parts.first.flatMap({ Double($0) }) else { return nil }
        let den = parts.count > 1 ? Double(parts[1]) ?? 0 : 1
        guard den > 0, num > 0 else { return nil }
        return (num / den * 1000).rounded() / 1000
    }
}
