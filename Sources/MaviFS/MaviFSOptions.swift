import FUSE
import Foundation
import Glibc

/// How the mounted library behaves.
public struct MaviFSOptions: Sendable {
    /// Let `rm` delete videos on the server. Deletion is permanent, so it is off unless asked for.
    public var allowDelete: Bool
    /// How long listings (and the kernel's entries and attributes) are trusted before asking again.
    public var listTTL: Duration
    /// Owner of every file and directory.
    public var uid: uid_t
    public var gid: gid_t
    /// Permission bits removed from the default modes (0444/0555, or 0644/0755 with deletion).
    public var umask: mode_t
    /// The time zone and calendar `by-date` uses.
    public var calendar: Calendar
    /// The longest a read waits for its bytes before it fails with `EIO`.
    public var readTimeout: Duration
    /// The longest a lookup, a directory listing or a delete waits for the server. A listing that
    /// does not come in time is served from the last one fetched (or fails with `EIO` if there is
    /// none); a delete that is not confirmed in time fails with `EIO`.
    public var metadataTimeout: Duration
    /// A folder of more videos than this lists no subtitle sidecars; they still open by name.
    /// Each sidecar listed is one more entry for every `ls -l`, `find` and file manager to go
    /// through: in `all/` of a very large library that doubles the cost of browsing it.
    public var sidecarListingLimit: Int

    public static let defaultSidecarListingLimit = 50_000

    public init(allowDelete: Bool = false, listTTL: Duration = .seconds(60), uid: uid_t = getuid(), gid: gid_t = getgid(),
                umask: mode_t = 0o022, calendar: Calendar = .current,
                readTimeout: Duration = .seconds(30), metadataTimeout: Duration = .seconds(10),
                sidecarListingLimit: Int = defaultSidecarListingLimit) {
        self.allowDelete = allowDelete
        self.listTTL = listTTL
        self.uid = uid
        self.gid = gid
        self.umask = umask
        self.calendar = calendar
        self.readTimeout = readTimeout
        self.metadataTimeout = metadataTimeout
        self.sidecarListingLimit = sidecarListingLimit
    }

    /// A file is writable (0644) only when it can be deleted, so that `rm` does not ask
    /// "remove write-protected regular file?"; the data itself is never writable.
    var fileMode: mode_t { (allowDelete ? 0o644 : 0o444) & ~umask }
    var directoryMode: mode_t { (allowDelete ? 0o755 : 0o555) & ~umask }

    var ttlSeconds: Double {
        Double(listTTL.components.seconds) + Double(listTTL.components.attoseconds) / 1e18
    }
}
