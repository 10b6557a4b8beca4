import Glibc

/// Which extended attribute names a filesystem serves, and the answer to any other name that
/// needs no round through the filesystem (see `FileSystemOperations.extendedAttributePrefixes`).
struct ExtendedAttributeNames: Sendable {
    let servedPrefixes: [String]
    /// The namespaces the prefixes belong to (`user.` for `user.mavi.`): names there that no
    /// prefix covers simply do not exist.
    let servedNamespaces: Set<Substring>

    init(servedPrefixes: [String]) {
        self.servedPrefixes = servedPrefixes
        servedNamespaces = Set(servedPrefixes.map(Self.namespace(of:)))
    }

    /// `nil` when the filesystem answers `name` itself; otherwise the errno to reply at once.
    func refusal(for name: String) -> Int32? {
        if servedPrefixes.contains(where: name.hasPrefix) { return nil }
        return servedNamespaces.contains(Self.namespace(of: name)) ? ENODATA : EOPNOTSUPP
    }

    /// The part of a name up to and including its first dot (the whole name if it has none).
    static func namespace(of name: String) -> Substring {
        guard let dot = name.firstIndex(of: ".") else { return name[...] }
        return name[...dot]
    }
}
