import CoreMetrics
import MaviLibrary
import Synchronization

/// The block cache's own accounting (`VideoReader.stats()`), exported as metrics at each scrape:
/// counters advance by what the cache counted since the previous scrape, gauges take its values.
/// Sampling keeps the cache's hot paths free of metric calls and gives exactly the numbers
/// `mavifs status` shows.
final class LibraryMetrics: Sendable {
    private let reader: VideoReader
    private let catalog: VideoCatalog
    private let deletes: DeleteQueue?
    private let last = Mutex(CacheStats())
    private let lastDeletes = Mutex(DeleteQueue.Stats())

    init(reader: VideoReader, catalog: VideoCatalog, deletes: DeleteQueue? = nil) {
        self.reader = reader
        self.catalog = catalog
        self.deletes = deletes
    }

    func refresh() {
        last.withLock { last in
            let now = reader.stats()
            func advance(_ label: String, _ dimensions: [(String, String)], _ old: Int64, _ new: Int64) {
                if new > old { Counter(label: label, dimensions: dimensions).increment(by: new - old) }
            }
            advance("mavifs_read_bytes_total", [("source", "cache")], last.bytesFromCache, now.bytesFromCache)
            advance("mavifs_read_bytes_total", [("source", "network")], last.bytesFromNetwork, now.bytesFromNetwork)
            advance("mavifs_downloaded_bytes_total", [("kind", "stream")],
                    last.bytesDownloaded - last.bytesFetchedByRange, now.bytesDownloaded - now.bytesFetchedByRange)
            advance("mavifs_downloaded_bytes_total", [("kind", "range")], last.bytesFetchedByRange, now.bytesFetchedByRange)
            advance("mavifs_cache_evicted_bytes_total", [], last.bytesEvicted, now.bytesEvicted)
            advance("mavifs_downloads_started_total", [], Int64(last.downloadsStarted), Int64(now.downloadsStarted))
            Gauge(label: "mavifs_cache_bytes").record(now.bytesCached)
            Gauge(label: "mavifs_cache_max_bytes").record(now.maxBytes)
            Gauge(label: "mavifs_cache_videos").record(now.files)
            Gauge(label: "mavifs_downloads_in_flight").record(now.downloadsInFlight.count)
            if let listing = catalog.cached() {
                Gauge(label: "mavifs_videos_listed").record(listing.shownCount)
            }
            last = now
        }
        if let deletes {
            lastDeletes.withLock { last in
                let now = deletes.stats()
                Gauge(label: "mavifs_deletes_pending").record(now.pending)
                for (outcome, old, new) in [("confirmed", last.confirmed, now.confirmed), ("refused", last.refused, now.refused)] where new > old {
                    Counter(label: "mavifs_deletes_total", dimensions: [("outcome", outcome)]).increment(by: new - old)
                }
                if now.calls > last.calls { Counter(label: "mavifs_delete_calls_total").increment(by: now.calls - last.calls) }
                last = now
            }
        }
    }
}
