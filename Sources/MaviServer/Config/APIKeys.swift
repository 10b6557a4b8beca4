import Foundation

/// Which accepted key a request used: its position in the key list. Rate limits are kept per key;
/// the key itself is never stored outside `APIKeyStore`, logged or echoed.
struct APIKeyID: Hashable, Sendable {
    var index: Int
}

/// The accepted API keys and the check of an `Authorization` header against them.
struct APIKeyStore: Sendable {
    private let keys: [[UInt8]]
    /// The file the keys came from, when they were not given explicitly.
    let keyFile: String?

    init(keys: [String], keyFile: String?) throws {
        let cleaned = keys.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        guard !cleaned.isEmpty else { throw ServerStartError.noAPIKeys }
        self.keys = cleaned.map { Array($0.utf8) }
        self.keyFile = keyFile
    }

    /// Keys for `options`: the explicit ones, or those in `DIR/api-key`, created on first start.
    static func load(_ options: ServerOptions, layout: LibraryLayout) throws -> APIKeyStore {
        if let explicit = options.apiKeys {
            return try APIKeyStore(keys: explicit, keyFile: nil)
        }
        guard isLoopbackHost(options.host) else {
            throw ServerStartError.nonLoopbackNeedsExplicitKey(host: options.host)
        }
        let path = layout.keyFile
        if !FileManager.default.fileExists(atPath: path) {
            try createKeyFile(at: path)
        }
        try checkPrivate(path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let keys = text.split(whereSeparator: \.isNewline).map(String.init)
        guard keys.contains(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
            throw ServerStartError.emptyKeyFile(path: path)
        }
        return try APIKeyStore(keys: keys, keyFile: path)
    }

    /// The first accepted key, for in-process callers (tests) that need to authenticate.
    var firstKey: String { String(decoding: keys[0], as: UTF8.self) }

    /// Matches an `Authorization` header, which carries the raw key or `Bearer <key>`.
    /// Every key is compared in full whatever the outcome, so timing says nothing about the keys.
    func authenticate(_ header: String?) -> APIKeyID? {
        guard let header else { return nil }
        var presented = Substring(header.trimmingCharacters(in: .whitespaces))
        if presented.count > 7, presented.prefix(7).lowercased() == "bearer " {
            presented = presented.dropFirst(7).drop { $0 == " " }
        }
        let candidate = Array(presented.utf8)
        var match: APIKeyID?
        for (index, key) in keys.enumerated() where Self.constantTimeEquals(candidate, key) && match == nil {
            match = APIKeyID(index: index)
        }
        return match
    }

    /// Compares without an early exit; only the lengths influence the time taken.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference: UInt8 = a.count == b.count ? 0 : 1
        for i in 0..<max(a.count, b.count) {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            difference |= x ^ y
        }
        return difference == 0
    }

    /// Refuses a key file that others could read or change (as ssh refuses such a private key):
    /// group or world permission bits, another owner than this user or root, or not a regular file.
    static func checkPrivate(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }  // reading it reports what is wrong
        let mode = UInt16(info.st_mode & 0o7777)
        guard (info.st_mode & S_IFMT) == S_IFREG, mode & 0o077 == 0, info.st_uid == geteuid() || info.st_uid == 0 else {
            throw ServerStartError.insecureKeyFile(path: path, mode: mode)
        }
    }

    /// Writes a new random key, readable by the owner only. `O_EXCL` keeps a concurrent start from
    /// overwriting a key another process just wrote.
    private static func createKeyFile(at path: String) throws {
        var generator = SystemRandomNumberGenerator()
        let hex = (0..<20).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        let line = "sk-mavi-\(hex)\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        if fd < 0 {
            if errno == EEXIST { return }
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        defer { close(fd) }
        let written = line.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, line.utf8.count) }
        if written != line.utf8.count {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }
}
