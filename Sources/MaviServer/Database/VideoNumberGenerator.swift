import Foundation
import Synchronization

/// Makes ids shaped like the live service's (`VI` + 18 digits): a millisecond timestamp shifted
/// left by 22 bits, as snowflake ids are, so they sort by upload time. Always above the last one
/// issued (or found in the database at start), so they stay unique across restarts and bursts.
final class VideoNumberGenerator: Sendable {
    private static let epochMilliseconds: Int64 = 1_577_836_800_000  // 2020-01-01
    private let last: Mutex<Int64>

    init(floor: Int64) {
        last = Mutex(floor)
    }

    func next() -> String {
        let ms = Int64(Date().timeIntervalSince1970 * 1000) - Self.epochMilliseconds
        let candidate = ms << 22
        let value = last.withLock { last in
            last = max(candidate, last + 1)
            return last
        }
        return "VI\(value)"
    }
}
