import Foundation

/// Videos with subtitle tracks, shared by the search and sidecar tests of every layer: their
/// names, transcripts and captions are chosen so each search has one right answer.
public enum SubtitledVideos {
    /// Speech of "dog on the beach": two cues.
    public static let beachSpeech = """
        1
        00:00:00,000 --> 00:00:01,000
        Hello world

        2
        00:00:01,000 --> 00:00:02,500
        The quick brown fox

        """
    /// Captions of "dog on the beach".
    public static let beachCaptions = """
        1
        00:00:00,500 --> 00:00:02,000
        A red ball on the sand

        """
    /// Speech of "harbour walk": one cue with one word of the fox line.
    public static let harbourSpeech = """
        1
        00:00:00,500 --> 00:00:01,500
        A brown dog runs

        """

    /// A video made once per process and shared; callers must not modify it.
    public static func beach() async throws -> String {
        try await Made.shared.video("beach") { path in
            try await VideoFixtures.makeMP4(at: path, seconds: 3, subtitleTracks: [beachSpeech, beachCaptions])
        }
    }

    public static func harbour() async throws -> String {
        try await Made.shared.video("harbour") { path in
            try await VideoFixtures.makeMP4(at: path, seconds: 2, subtitleTracks: [harbourSpeech])
        }
    }

    /// No audio and no subtitles at all.
    public static func silent() async throws -> String {
        try await Made.shared.video("silent") { path in
            try await VideoFixtures.makeMP4(at: path, seconds: 1, subtitleTracks: [], audio: false)
        }
    }

    private actor Made {
        static let shared = Made()
        private let directory = NSTemporaryDirectory() + "mavifs-subtitled-\(getpid())-\(UUID().uuidString.prefix(8))"
        private var made: [String: Task<String, any Error>] = [:]

        func video(_ name: String, _ make: @escaping @Sendable (String) async throws -> Void) async throws -> String {
            if let task = made[name] { return try await task.value }
            let path = "\(directory)/\(name).mp4"
            let directory = directory
            let task = Task {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                try await make(path)
                return path
            }
            made[name] = task
            return try await task.value
        }
    }
}
