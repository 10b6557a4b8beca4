import ArgumentParser
import MaviClient

/// How long the mount waits for the network before answering with what it has: reads fail with
/// EIO, directories show their last listing. A mount under players and scripts must never hang.
struct DeadlineOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Seconds a read may wait for its bytes before it fails with EIO.", valueName: "seconds"))
    var readTimeout: Double = 30

    @Option(help: ArgumentHelp(
        "Seconds a lookup, listing or delete may wait for the server; a listing then shows the last one fetched.",
        valueName: "seconds"))
    var metadataTimeout: Double = 10

    func validate() throws {
        guard readTimeout > 0, readTimeout <= 86_400 else { throw ValidationError("--read-timeout must be between 0 and 86400 seconds") }
        guard metadataTimeout > 0, metadataTimeout <= 86_400 else {
            throw ValidationError("--metadata-timeout must be between 0 and 86400 seconds")
        }
    }

    var read: Duration { .milliseconds(Int(readTimeout * 1000)) }
    var metadata: Duration { .milliseconds(Int(metadataTimeout * 1000)) }

    /// Client timeouts that fit the deadlines: a stalled download is noticed, and tried again,
    /// within half a read's deadline, and a listing that hangs is given up (so a new one can
    /// start once the server is back) after twice the metadata deadline.
    func clientTimeouts(_ base: Timeouts = .standard) -> Timeouts {
        var timeouts = base
        timeouts.idleRead = min(base.idleRead, max(read / 2, .seconds(1)))
        timeouts.request = min(base.request, max(metadata * 2, .seconds(5)))
        timeouts.connect = min(base.connect, max(metadata, .seconds(1)))
        return timeouts
    }
}
