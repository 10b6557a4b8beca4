import MaviAPI
import MaviClient

extension VideoReader {
    /// Connections kept open to each origin known to honour Range, besides those in use. A
    /// player's first moments take four at once: the first block, its read-ahead, and at the jump
    /// to the index at the end of the file, the request from the jump and the one for the bytes
    /// before it in its block. Each connection opened then would cost a round trip more.
    public static let spareConnections = 4
    /// How often they are opened again: before the pool closes idle connections (two minutes).
    static let warmingInterval: Duration = .seconds(100)

    /// Keeps ``spareConnections`` connections open to each origin of `videos()` that honours
    /// Range, until cancelled: the first read of a video, and a jump within it while an earlier
    /// request still streams, find a connection ready instead of paying for a new one (a round
    /// trip more: 150 ms over a 75 ms link). An origin not known yet is probed by the same
    /// requests, so that it is known before the first read. Costs one one-byte request per spare
    /// connection and origin every 100 s, never to the rate-limited download endpoint; an origin
    /// known to ignore Range is left alone.
    ///
    /// `first` is a round already under way (``warmConnections(for:within:)``), waited for before
    /// the next.
    public func keepConnectionsWarm(after first: Task<Void, Never>? = nil, for videos: @Sendable () -> [Video]) async {
        if let first {
            await first.value
            try? await Task.sleep(for: Self.warmingInterval)
        }
        while !Task.isCancelled {
            await warmingRound(videos())
            try? await Task.sleep(for: Self.warmingInterval)
        }
    }

    /// Starts a round of warming and waits for it at most `limit`: called before a mount
    /// appears, so that its first read finds the connections open (a read made while the round
    /// still runs would find the one open connection busy with it, and pay for a new one), yet a
    /// slow origin does not hold the mount up. The round goes on if it takes longer.
    public func warmConnections(for videos: [Video], within limit: Duration) async -> Task<Void, Never> {
        let (ended, signal) = AsyncStream<Void>.makeStream()
        let round = Task {
            await self.warmingRound(videos)
            signal.yield()
        }
        let timer = Task {
            try? await Task.sleep(for: limit)
            signal.yield()
        }
        for await _ in ended { break }
        timer.cancel()
        signal.finish()
        return round
    }

    /// ``spareConnections`` connections to each origin of `videos` not known to ignore Range,
    /// probing it on the way.
    private func warmingRound(_ videos: [Video]) async {
        for source in warmableSources(videos) {
            switch await client.warmConnections(to: source.url, count: Self.spareConnections) {
            case true?: rangeSupport.recordHonoured(source.origin)
            case false?:
                if rangeSupport.recordIgnored(source.origin) {
                    logger.notice("the video source ignores Range; reads will wait for the download", metadata: ["origin": "\(source.origin)"])
                }
            case nil: break
            }
        }
    }

    /// How many of the first videos listed are looked at for their origins.
    public static let warmingScan = 10_000

    /// One video's source for each origin not known to ignore Range, among the first videos
    /// listed.
    func warmableSources(_ videos: [Video]) -> [RangeSource] {
        var origins = Set<String>()
        var sources: [RangeSource] = []
        for video in videos.prefix(Self.warmingScan) {
            let hint = SourceHint(videoURL: video.videoURL, bucket: video.bucket, blob: video.blob)
            guard let source = RangeSource.of(hint, client: client), origins.insert(source.origin).inserted,
                rangeSupport.support(of: source.origin) != .ignored
            else { continue }
            sources.append(source)
        }
        return sources
    }
}
