import Foundation
import Synchronization

/// Real video files made with ffmpeg's `testsrc`, for tests that upload, probe and download.
public enum VideoFixtures {
    public struct FFmpegFailed: Error, CustomStringConvertible {
        public let status: Int32
        public let arguments: [String]
        public var description: String { "ffmpeg exited with \(status): \(arguments.joined(separator: " "))" }
    }

    /// Writes a small H.264 MP4 (MPEG-4 Part 2 if libx264 is missing) of `seconds` at
    /// `width`x`height` and `fps` to `path`.
    public static func makeMP4(at path: String, seconds: Double = 1, width: Int = 160, height: Int = 120, fps: Int = 25) async throws {
        let source = "testsrc=duration=\(seconds):size=\(width)x\(height):rate=\(fps)"
        let common = ["-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", source]
        let h264 = common + ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart", path]
        if try await runFFmpeg(h264) == 0 { return }
        let fallback = common + ["-c:v", "mpeg4", "-movflags", "+faststart", path]
        let status = try await runFFmpeg(fallback)
        guard status == 0 else { throw FFmpegFailed(status: status, arguments: fallback) }
    }

    /// An MP4 of `seconds` of test pattern carrying one `mov_text` subtitle track per SRT text
    /// of `subtitleTracks` (the first is the speech transcript, the second captions), with a tone
    /// as its audio when `audio` is true.
    public static func makeMP4(at path: String, seconds: Double, subtitleTracks: [String], audio: Bool = true) async throws {
        let scratch = path + ".subtitles"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var arguments = ["-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc=duration=\(seconds):size=160x120:rate=25"]
        if audio { arguments += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050:duration=\(seconds)"] }
        for (n, text) in subtitleTracks.enumerated() {
            let file = "\(scratch)/\(n).srt"
            try Data(text.utf8).write(to: URL(fileURLWithPath: file))
            arguments += ["-i", file]
        }
        let firstSubtitleInput = audio ? 2 : 1
        arguments += ["-map", "0:v"] + (audio ? ["-map", "1:a"] : [])
        for n in subtitleTracks.indices { arguments += ["-map", "\(firstSubtitleInput + n):s"] }
        arguments += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"] + (audio ? ["-c:a", "aac"] : [])
        arguments += ["-c:s", "mov_text", "-movflags", "+faststart", path]
        let status = try await runFFmpeg(arguments)
        guard status == 0 else { throw FFmpegFailed(status: status, arguments: arguments) }
    }

    /// A file of `count` pseudo-random bytes that is not a video (deterministic for a `seed`).
    public static func makeNonVideo(at path: String, count: Int = 4096, seed: UInt64 = 1) throws {
        var state = seed
        var bytes = [UInt8](repeating: 0, count: count)
        for i in bytes.indices {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            bytes[i] = UInt8(truncatingIfNeeded: state >> 33)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// A sparse file of `size` bytes (zeros), for large-transfer tests that must not use disk.
    public static func makeSparseFile(at path: String, size: Int64) throws {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.truncate(atOffset: UInt64(size))
    }

    /// The same MP4 as `makeMP4`, made once per test process and shared (ffmpeg is the slow part
    /// of a test). Callers must not modify or delete it.
    public static func sharedMP4(seconds: Double = 1, width: Int = 160, height: Int = 120, fps: Int = 25) async throws -> String {
        try await SharedMP4s.shared.path(seconds: seconds, width: width, height: height, fps: fps)
    }

    private static func runFFmpeg(_ arguments: [String]) async throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ffmpeg"] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        return try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
    }
}

/// The files behind `VideoFixtures.sharedMP4`, one per set of parameters, in a directory of this
/// process.
private actor SharedMP4s {
    static let shared = SharedMP4s()

    private let directory = NSTemporaryDirectory() + "mavifs-fixture-videos-\(getpid())-\(UUID().uuidString.prefix(8))"
    private var made: [String: Task<String, any Error>] = [:]

    func path(seconds: Double, width: Int, height: Int, fps: Int) async throws -> String {
        let name = "testsrc-\(seconds)s-\(width)x\(height)-\(fps).mp4"
        if let task = made[name] { return try await task.value }
        let path = directory + "/" + name
        let directory = directory
        let task = Task {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try await VideoFixtures.makeMP4(at: path, seconds: seconds, width: width, height: height, fps: fps)
            return path
        }
        made[name] = task
        return try await task.value
    }
}
