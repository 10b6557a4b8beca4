import ArgumentParser
import MaviClient

/// How long the mount waits for the network before answering with what it has: reads fail with
/// EIO, directories show their last listing. A mount under players and scripts must never hang.
struct DeadlineOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Seconds a read may wait for its bytes before it fails with EIO.", valueName: "seconds"))
    var readTimeout: Double?

    @Option(help: ArgumentHelp(
        "Seconds a lookup, listing or delete may wait for the server; a listing then shows the last one fetched.",
        valueName: "seconds"))
    var metadataTimeout: Double?

    static let defaultRead = 30.0
    static let defaultMetadata = 10.0

    func validate() throws {
        try Self.check(readTimeout, "--read-timeout")
        try Self.check(metadataTimeout, "--metadata-timeout")
    }

    static func check(_ seconds: Double?, _ name: String) throws {
        guard let seconds else { return }
        guard seconds > 0, seconds <= 86_400 else { throw ValidationError("\(name) must be between 0 and 86400 seconds") }
    }
}

/// The deadlines a mount runs with, from flags, the settings file (`read_timeout`,
/// `metadata_timeout`, in seconds) or the defaults.
struct MountDeadlines {
    var readSeconds: Double
    var metadataSeconds: Double

    var read: Duration { .milliseconds(Int(readSeconds * 1000)) }
    var metadata: Duration { .milliseconds(Int(metadataSeconds * 1000)) }

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
