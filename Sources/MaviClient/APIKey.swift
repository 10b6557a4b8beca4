import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The secret that authorizes requests, wrapped so it cannot leak by accident.
///
/// Its `description`, `debugDescription` and reflection are redacted, so string interpolation,
/// `print`, `dump`, error text and log metadata show `<redacted API key>`. Only the request
/// builder inside this module reads the secret, to put it in the `Authorization` header.
public struct APIKey: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The environment variable read by ``fromEnvironment(_:)``.
    public static let environmentVariable = "MAVI_API_KEY"

    let secret: String

    /// Wraps a key, trimming surrounding whitespace. Refuses an empty key and one with spaces or
    /// control characters, which could never be a valid header value.
    public init(_ secret: String) throws(APIKeyError) {
        try self.init(secret, source: "the key")
    }

    init(_ secret: String, source: String) throws(APIKeyError) {
        let trimmed = secret.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .empty(source: source) }
        // Visible ASCII only: the key goes verbatim into an HTTP header.
        guard trimmed.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw .invalidCharacters(source: source) }
        self.secret = trimmed
    }

    public var description: String { "<redacted API key>" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    /// The key from `MAVI_API_KEY`, or `nil` when the variable is unset or empty.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(APIKeyError) -> APIKey? {
        guard let value = environment[environmentVariable],
              !value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return nil }
        return try APIKey(value, source: environmentVariable)
    }

    /// Reads a key from a file that only its owner may read, as ssh does for private keys.
    ///
    /// The file is opened first and its permissions checked on the open descriptor, so the file
    /// checked is the file read. Refused: group or world permission bits, an owner other than the
    /// current user or root, anything but a regular file, and files larger than 4 KiB.
    public static func load(fromFile path: String) throws(APIKeyError) -> APIKey {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }

        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .notARegularFile(path: path) }
        let permissions = UInt16(info.st_mode & 0o7777)
        guard permissions & 0o077 == 0 else { throw .insecurePermissions(path: path, mode: permissions) }
        guard info.st_uid == geteuid() || info.st_uid == 0 else { throw .wrongOwner(path: path) }

        let limit = 4096
        guard info.st_size <= limit else { throw .unreadable(path: path, reason: "larger than \(limit) bytes") }
        var bytes = [UInt8](repeating: 0, count: limit)
        var count = 0
        while count < limit {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, limit - count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            count += n
        }
        guard let text = String(validating: bytes[..<count], as: UTF8.self) else {
            throw .invalidCharacters(source: path)
        }
        return try APIKey(text, source: path)
    }
}

/// How the key is presented in the `Authorization` header.
public enum AuthScheme: String, Sendable, Hashable, CaseIterable {
    /// `Authorization: sk-mavi-…`, as the Visual Search API documents.
    case raw
    /// `Authorization: Bearer …`, used by an older product line.
    case bearer

    func headerValue(for key: APIKey) -> String {
        switch self {
        case .raw: key.secret
        case .bearer: "Bearer " + key.secret
        }
    }
}

/// Why a key could not be loaded. Messages never include the key itself.
public enum APIKeyError: Error, Sendable, Equatable, CustomStringConvertible {
    case missing
    case empty(source: String)
    case invalidCharacters(source: String)
    case unreadable(path: String, reason: String)
    case notARegularFile(path: String)
    case insecurePermissions(path: String, mode: UInt16)
    case wrongOwner(path: String)

    public var description: String {
        switch self {
        case .missing:
            "No API key: set \(APIKey.environmentVariable) or pass --api-key-file PATH."
        case .empty(let source):
            "The API key in \(source) is empty."
        case .invalidCharacters(let source):
            "The API key in \(source) contains spaces, control or non-ASCII characters."
        case .unreadable(let path, let reason):
            "Cannot read the API key file '\(path)': \(reason)."
        case .notARegularFile(let path):
            "The API key file '\(path)' is not a regular file."
        case .insecurePermissions(let path, let mode):
            "Permissions \(String(format: "%04o", mode)) for the API key file '\(path)' are too open: "
                + "it must not be accessible by others. Run: chmod 600 '\(path)'"
        case .wrongOwner(let path):
            "The API key file '\(path)' must be owned by the current user."
        }
    }
}

extension APIKeyError: LocalizedError {
    public var errorDescription: String? { description }
}
