import Foundation
import Logging
import MaviAPI
import MaviClient
import Synchronization

/// Where searches go. `MaviClient` is the real one; tests may substitute their own.
public protocol SearchSource: Sendable {
    func search(_ text: String, options: SearchOptions) async throws -> [SearchHit]
    func searchAudioTranscripts(_ phrase: String, page: Int, pageSize: Int) async throws -> TranscriptMatchPage
}

extension MaviClient: SearchSource {}

/// One search: words ranked by the service (`search`), or an exact phrase of speech
/// (`search_audio_transcripts`).
public struct SearchKey: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case words
        case phrase
    }

    public var kind: Kind
    public var text: String

    public init(_ kind: Kind, _ text: String) {
        self.kind = kind
        self.text = text
    }
}

/// One stretch of a video that matched.
public struct SearchClip: Sendable, Equatable {
    /// Seconds from the start of the video.
    public var start: Double
    public var end: Double?
    /// 0…1; nil for a phrase match, which is exact or nothing.
    public var score: Double?

    public init(start: Double, end: Double?, score: Double?) {
        self.start = start
        self.end = end
        self.score = score
    }
}

/// The hits of one video: its clips in time order, and the best score of any of them.
public struct VideoHits: Sendable, Equatable {
    public var videoNo: String
    public var videoName: String
    public var bestScore: Double?
    public var clips: [SearchClip]

    /// The clip a player should start at: the best one (the first, for a phrase).
    public var bestClip: SearchClip? {
        clips.max { ($0.score ?? 0, -$0.start) < ($1.score ?? 0, -$1.start) }
    }
}

/// What one search found, one entry per video, best first.
public struct SearchResults: Sendable, Equatable {
    public var key: SearchKey
    public var videos: [VideoHits]
    /// On the catalog's clock, for the time to live.
    public var fetchedAt: Duration
    /// The last refresh failed and these are the results from before.
    public var isStale = false

    /// Groups clip hits by video, keeping the service's order of their best hits.
    static func grouping(_ hits: [SearchHit], key: SearchKey, at time: Duration) -> SearchResults {
        var order: [String] = []
        var byVideo: [String: VideoHits] = [:]
        for hit in hits {
            let clip = SearchClip(start: hit.startTime, end: hit.endTime, score: hit.score)
            if byVideo[hit.videoNo] == nil {
                order.append(hit.videoNo)
                byVideo[hit.videoNo] = VideoHits(videoNo: hit.videoNo, videoName: hit.videoName, bestScore: hit.score, clips: [clip])
            } else {
                byVideo[hit.videoNo]!.clips.append(clip)
                byVideo[hit.videoNo]!.bestScore = max(byVideo[hit.videoNo]!.bestScore ?? 0, hit.score)
            }
        }
        var videos = order.compactMap { byVideo[$0] }
        for index in videos.indices { videos[index].clips.sort { $0.start < $1.start } }
        // Best score first; the service's order among equals (a stable sort).
        videos = videos.enumerated().sorted { a, b in
            let (sa, sb) = (a.element.bestScore ?? 0, b.element.bestScore ?? 0)
            return sa != sb ? sa > sb : a.offset < b.offset
        }.map(\.element)
        return SearchResults(key: key, videos: videos, fetchedAt: time)
    }

    /// Groups phrase matches by video, newest first as the service lists them.
    static func grouping(_ matches: [TranscriptMatch], key: SearchKey, at time: Duration) -> SearchResults {
        var order: [String] = []
        var byVideo: [String: VideoHits] = [:]
        for match in matches {
            let clip = SearchClip(start: match.startTime, end: nil, score: nil)
            if byVideo[match.videoNo] == nil {
                order.append(match.videoNo)
                byVideo[match.videoNo] = VideoHits(videoNo: match.videoNo, videoName: match.videoName, bestScore: nil, clips: [clip])
            } else {
                byVideo[match.videoNo]!.clips.append(clip)
            }
        }
        var videos = order.compactMap { byVideo[$0] }
        for index in videos.indices { videos[index].clips.sort { $0.start < $1.start } }
        return SearchResults(key: key, videos: videos, fetchedAt: time)
    }
}

/// Searches, each run once and kept for the time to live; callers asking for the same search at
/// once share one request. Remembers what was searched since the mount, in order.
public final class SearchCatalog: Sendable {
    private struct Entry {
        var results: SearchResults?
        var running: Task<SearchResults, any Error>?
    }

    public let ttl: Duration
    /// Clip hits asked of `search` (the service caps it at 1000).
    public let topK: Int
    private let source: any SearchSource
    private let clock: TimeSource
    private let logger: Logger
    private let entries = Mutex<[SearchKey: Entry]>([:])
    private let order = Mutex<[SearchKey]>([])

    public init(source: any SearchSource, ttl: Duration, topK: Int = 200, clock: TimeSource = .continuous, logger: Logger = Logger(label: "mavifs.search")) {
        self.source = source
        self.ttl = ttl
        self.topK = min(max(1, topK), APILimits.maxSearchTopK)
        self.clock = clock
        self.logger = logger
    }

    /// Every search run (or tried) since the mount, in the order first asked.
    public var searched: [SearchKey] { order.withLock { $0 } }

    /// The results kept for `key`, however old, without asking.
    public func cached(_ key: SearchKey) -> SearchResults? {
        entries.withLock { $0[key]?.results }
    }

    /// The results of `key`: kept ones younger than the time to live, else asked now. When asking
    /// fails and older results exist, those are served, marked stale.
    public func results(_ key: SearchKey) async throws -> SearchResults {
        let now = clock.now
        let task = entries.withLock { all -> Task<SearchResults, any Error>? in
            var entry = all[key] ?? Entry()
            if let results = entry.results, now - results.fetchedAt < ttl { return nil }
            if entry.running == nil { entry.running = makeSearch(key) }
            all[key] = entry
            return entry.running
        }
        order.withLock { if !$0.contains(key) { $0.append(key) } }
        guard let task else { return entries.withLock { $0[key]!.results! } }
        do {
            return try await task.value
        } catch {
            guard var last = cached(key) else { throw error }
            logger.warning("search failed; serving the results from before", metadata: ["error": "\(error)"])
            last.isStale = true
            return last
        }
    }

    private func makeSearch(_ key: SearchKey) -> Task<SearchResults, any Error> {
        Task { [source, topK, clock] in
            defer { self.entries.withLock { $0[key]?.running = nil } }
            let results: SearchResults
            switch key.kind {
            case .words:
                let hits = try await source.search(key.text, options: SearchOptions(type: .byClip, topK: topK))
                results = SearchResults.grouping(hits, key: key, at: clock.now)
            case .phrase:
                let page = try await source.searchAudioTranscripts(key.text, page: 1, pageSize: APILimits.maxTranscriptPageSize)
                results = SearchResults.grouping(page.videos, key: key, at: clock.now)
            }
            self.entries.withLock { $0[key, default: Entry()].results = results }
            return results
        }
    }
}
