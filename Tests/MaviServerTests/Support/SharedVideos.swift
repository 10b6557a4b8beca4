import Foundation
import TestSupport

/// MP4s made once per test run and shared by every test (ffmpeg is the slow part of a test).
actor SharedVideos {
    static let shared = SharedVideos()

    private let directory = NSTemporaryDirectory() + "mavifs-test-videos-\(UUID().uuidString)"
    private var made: [String: Task<String, any Error>] = [:]

    /// A `seconds`-long `width`x`height` MP4 at `fps`.
    func mp4(seconds: Double = 1, width: Int = 160, height: Int = 120, fps: Int = 25) async throws -> String {
        let name = "testsrc-\(seconds)s-\(width)x\(height)-\(fps).mp4"
        if let task = made[name] { return try await task.value }
        let path = directory + "/" + name
        let dir = directory
        let task = Task {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try await VideoFixtures.makeMP4(at: path, seconds: seconds, width: width, height: height, fps: fps)
            return path
        }
        made[name] = task
        return try await task.value
    }

    /// Random bytes named like a video.
    func notAVideo() throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/garbage.mp4"
        if !FileManager.default.fileExists(atPath: path) {
            try VideoFixtures.makeNonVideo(at: path, count: 8192)
        }
        return path
    }
}
