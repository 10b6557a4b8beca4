import Synchronization

/// What ranged requests to each origin have shown of its link: the time to a reply's first byte
/// (about one round trip on a warm connection) and the rate of one reply's body. It sets the
/// size of the next requests to that origin.
///
/// A request should last several round trips, so that the round trip it starts with is a small
/// share of it, and no longer, so that a window of read-ahead is cut into as many requests as
/// possible, side by side on their own connections: where each connection is capped (a TCP flow
/// over a long link, a CDN's per-connection limit), the parallel requests add up to the link.
final class OriginMeter: Sendable {
    struct Reading: Equatable {
        /// Seconds from sending a request to its first body byte.
        var firstByte: Double
        /// Bytes a second of one reply's body.
        var rate: Double
    }

    /// A request lasts at least this many first-byte times…
    static let roundTripsPerRequest = 4.0
    /// …and at least this long.
    static let shortestRequest = 0.1
    /// Weight of the newest measurement in the running average.
    static let weight = 0.3

    private let readings = Mutex<[String: Reading]>([:])

    func reading(of origin: String) -> Reading? {
        readings.withLock { $0[origin] }
    }

    /// A reply of `bytes` body bytes (enough to tell a rate) took `firstByte` seconds to start and
    /// `transfer` seconds from its first byte to its last.
    func record(origin: String, firstByte: Double, bytes: Int64, transfer: Double) {
        guard bytes >= 64 << 10, transfer > 0, firstByte >= 0 else { return }
        let fresh = Reading(firstByte: firstByte, rate: Double(bytes) / transfer)
        readings.withLock { readings in
            guard let old = readings[origin] else {
                readings[origin] = fresh
                return
            }
            readings[origin] = Reading(
                firstByte: old.firstByte + Self.weight * (fresh.firstByte - old.firstByte),
                rate: old.rate + Self.weight * (fresh.rate - old.rate))
        }
    }

    /// What a request asks for before its origin's link is known: small enough that a window's
    /// first requests run side by side even where each connection is slow, and large enough
    /// that a fast link is not held back until the first replies have measured it.
    static let firstRequestBytes = 2 << 20

    /// Blocks per request to `origin`: as many as one reply brings in the time it should last,
    /// between 1 and `maxBlocks`; ``firstRequestBytes`` (at least one block) before anything is
    /// known.
    func requestBlocks(origin: String, blockSize: Int, maxBlocks: Int) -> Int {
        guard let reading = reading(of: origin) else {
            return min(max(Self.firstRequestBytes / max(blockSize, 1), 1), max(maxBlocks, 1))
        }
        return Self.requestBlocks(for: reading, blockSize: blockSize, maxBlocks: maxBlocks)
    }

    static func requestBlocks(for reading: Reading, blockSize: Int, maxBlocks: Int) -> Int {
        let duration = max(roundTripsPerRequest * reading.firstByte, shortestRequest)
        let blocks = (reading.rate * duration / Double(max(blockSize, 1))).rounded(.up)
        guard blocks.isFinite else { return maxBlocks }
        return Int(min(max(blocks, 1), Double(max(maxBlocks, 1))))
    }
}
