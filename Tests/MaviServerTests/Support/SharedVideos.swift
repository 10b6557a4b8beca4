import Foundation
import TestSupport

/// MP4s made once per test run and shared by every test (ffmpeg is the slow part of a test).
actor SharedVideos {
    static let shared = SharedVideos()

    private let directory = NSTemporaryDirectory() + "mavifs-test-videos-\(UUID().uuidString)"

    /// A `seconds`-long `width`x`height` MP4 at `fps`, made once per process.
    func mp4(seconds: Double = 1, width: Int = 160, height: Int = 120, fps: Int = 25) async throws -> String {
        try await VideoFixtures.sharedMP4(seconds: seconds, width: width, height: height, fps: fps)
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
