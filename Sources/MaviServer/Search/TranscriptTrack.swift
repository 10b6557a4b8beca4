/// The two kinds of timed text a video can carry here: its speech transcript (the uploaded file's
/// first subtitle track) and visual captions (its second subtitle track, when it has one).
enum TranscriptTrack: String, Sendable, CaseIterable {
    case speech
    case caption

    /// Which of the file's subtitle streams holds this track (`-map 0:s:N`).
    var subtitleStream: Int {
        switch self {
        case .speech: 0
        case .caption: 1
        }
    }
}
