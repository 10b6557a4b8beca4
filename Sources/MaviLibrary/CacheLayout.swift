import Foundation

/// Where the cache keeps its files.
///
///     DIR/v1/lock                                  held (flock) by the process using the cache
///     DIR/v1/traffic.json                          bytes read from the cache and the network, lifetime
///     DIR/v1/origins.json                          which video sources honour Range
///     DIR/v1/<namespace>/<video_no>.<size>.data    sparse copy of the video, at its own offsets
///     DIR/v1/<namespace>/<video_no>.<size>.blocks  which blocks of the data file are complete
///
/// Namespace and video number are percent-encoded so any value makes one safe path component.
struct CacheLayout: Sendable {
    static let version = "v1"
    static let dataSuffix = ".data"
    static let recordSuffix = ".blocks"
    static let temporarySuffix = ".tmp"

    let root: String

    init(directory: String) {
        root = (directory as NSString).appendingPathComponent(Self.version)
    }

    var lockFile: String { (root as NSString).appendingPathComponent("lock") }
    /// Bytes read through the cache over its lifetime (``CacheTraffic``).
    var trafficFile: String { (root as NSString).appendingPathComponent("traffic.json") }
    /// What each origin does with ranged requests (``RangeSupportRegistry``).
    var originsFile: String { (root as NSString).appendingPathComponent("origins.json") }

    func namespaceDirectory(_ namespace: String) -> String {
        (root as NSString).appendingPathComponent(Self.encode(namespace))
    }

    func baseName(_ key: CacheKey) -> String {
        (namespaceDirectory(key.namespace) as NSString).appendingPathComponent("\(Self.encode(key.videoNo)).\(key.size)")
    }

    func dataFile(_ key: CacheKey) -> String { baseName(key) + Self.dataSuffix }
    func recordFile(_ key: CacheKey) -> String { baseName(key) + Self.recordSuffix }

    /// The key a record file's path stands for, or `nil` for any other file.
    func key(forRecordAt path: String) -> CacheKey? {
        let name = (path as NSString).lastPathComponent
        let namespaceComponent = ((path as NSString).deletingLastPathComponent as NSString).lastPathComponent
        guard name.hasSuffix(Self.recordSuffix), let namespace = Self.decode(namespaceComponent) else { return nil }
        let stem = name.dropLast(Self.recordSuffix.count)
        guard let dot = stem.lastIndex(of: "."), let size = Int64(stem[stem.index(after: dot)...]), size >= 0,
              let videoNo = Self.decode(String(stem[..<dot])), !videoNo.isEmpty else { return nil }
        return CacheKey(namespace: namespace, videoNo: videoNo, size: size)
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    /// Percent-encodes everything but letters, digits, `-` and `_` (so never `.` or `/`).
    /// The name (without extension) of a file kept per server and namespace (the delete journal,
    /// the stored listing): the endpoint's host, port and path, then the namespace, each encoded.
    static func stateFileName(endpoint: String, namespace: String) -> String {
        let server = URL(string: endpoint).map { ($0.host ?? "") + ($0.port.map { ":\($0)" } ?? "") + $0.path } ?? endpoint
        return encode(server) + "." + encode(namespace)
    }

    static func encode(_ value: String) -> String {
        guard !value.isEmpty else { return "%" }
        return value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }

    static func decode(_ component: String) -> String? {
        component == "%" ? "" : component.removingPercentEncoding
    }
}
