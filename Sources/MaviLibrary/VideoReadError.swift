import Glibc
import MaviClient

/// An error that says which errno a file system should answer for it. The FUSE layer has a
/// protocol of the same shape (`ErrnoConvertible`); this library does not depend on it.
public protocol FilesystemErrno: Error {
    var fuseErrno: Int32 { get }
}

/// Why a read of a video failed. No case carries the API key (client errors are already redacted).
public enum VideoReadError: FilesystemErrno, Sendable, Equatable, CustomStringConvertible {
    /// The bytes did not arrive within the read timeout.
    case timedOut
    /// The download (or the ranged fetch that was the only way to the bytes) failed for good.
    case downloadFailed(MaviClientError)
    /// The source's bytes are not what the listing promised (another length).
    case sourceMismatch(String)
    /// The listing has no size for the video, so it cannot be read through the cache.
    case unknownSize
    /// The video was deleted while the read waited.
    case forgotten
    /// The cache file could not be read or written.
    case cacheIO(operation: String, errno: Int32)
    /// The reader has shut down.
    case shutDown
    /// The reading task was cancelled (the kernel interrupted the request).
    case cancelled

    public var fuseErrno: Int32 {
        switch self {
        case .timedOut: ETIMEDOUT
        case .cancelled: EINTR
        case .forgotten: ENOENT
        default: EIO
        }
    }

    public var description: String {
        switch self {
        case .timedOut: "the video's bytes did not arrive in time"
        case .downloadFailed(let error): "download failed: \(error)"
        case .sourceMismatch(let reason): "the source does not match the listing: \(reason)"
        case .unknownSize: "the listing gives no size for this video"
        case .forgotten: "the video was deleted"
        case .cacheIO(let operation, let code): "cache \(operation) failed: \(String(cString: strerror(code)))"
        case .shutDown: "the reader has shut down"
        case .cancelled: "cancelled"
        }
    }
}
