import Glibc

/// An error that carries the errno the kernel should see.
///
/// Operations throw it to fail a request with a precise errno. Any other error thrown by an
/// operation is answered with `EIO` (and logged), `CancellationError` with `EINTR`.
public struct FUSEError: Error, Sendable, Equatable, CustomStringConvertible {
    public var errno: Int32

    public init(_ errno: Int32) {
        self.errno = errno
    }

    public var description: String {
        "\(String(cString: strerror(errno))) (errno \(errno))"
    }

    public static let notFound = FUSEError(ENOENT)
    public static let ioError = FUSEError(EIO)
    public static let notPermitted = FUSEError(EPERM)
    public static let accessDenied = FUSEError(EACCES)
    public static let readOnly = FUSEError(EROFS)
    public static let notImplemented = FUSEError(ENOSYS)
    public static let notADirectory = FUSEError(ENOTDIR)
    public static let isADirectory = FUSEError(EISDIR)
    public static let notEmpty = FUSEError(ENOTEMPTY)
    public static let exists = FUSEError(EEXIST)
    public static let invalid = FUSEError(EINVAL)
    public static let noAttribute = FUSEError(ENODATA)
    public static let rangeTooSmall = FUSEError(ERANGE)
    public static let badHandle = FUSEError(EBADF)
    public static let interrupted = FUSEError(EINTR)
    public static let timedOut = FUSEError(ETIMEDOUT)
    public static let notSupported = FUSEError(ENOTSUP)
    public static let nameTooLong = FUSEError(ENAMETOOLONG)
    public static let crossDevice = FUSEError(EXDEV)
    public static let busy = FUSEError(EBUSY)
}

extension FUSEError {
    /// The errno to answer for any error an operation threw.
    static func errno(for error: any Error) -> Int32 {
        switch error {
        case let e as FUSEError: e.errno
        case is CancellationError: EINTR
        case let e as any ErrnoConvertible: e.fuseErrno
        default: EIO
        }
    }
}

/// Errors of other layers can say which errno they stand for, without this module knowing them.
public protocol ErrnoConvertible: Error {
    var fuseErrno: Int32 { get }
}
