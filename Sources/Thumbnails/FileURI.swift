import CGdkPixbuf

/// File URIs and their MD5, formed by GLib exactly as GIO (and so GNOME's file managers) forms
/// them: a thumbnail is found under the MD5 of the URI a file manager computes, so one escaped
/// byte of difference would make it invisible.
public enum FileURI {
    /// `file:///…` for an absolute path, its bytes percent-escaped as `g_filename_to_uri` does.
    public static func uri(forPath path: String) throws -> String {
        var error: UnsafeMutablePointer<GError>?
        guard let uri = g_filename_to_uri(path, nil, &error) else {
            defer { g_error_free(error) }
            throw ThumbnailError.badPath(path, GLibMessage.of(error))
        }
        defer { g_free(uri) }
        return String(cString: uri)
    }

    /// The URI of a file name relative to its folder (escaped as in ``uri(forPath:)``): what a
    /// thumbnail in a shared repository records as `Thumb::URI`.
    public static func relativeURI(forFileName name: String) throws -> String {
        String(try uri(forPath: "/" + name).dropFirst("file:///".count))
    }

    /// The name of a file's thumbnail in a shared repository (`.sh_thumbnails/<size>/`): the MD5
    /// of the file's name, as Thunar and other readers of shared repositories look it up.
    public static func sharedThumbnailName(forFileName name: String) -> String {
        md5(name) + ".png"
    }

    /// The MD5 of `text` in lowercase hex: a thumbnail's file name without `.png`.
    public static func md5(_ text: String) -> String {
        let sum = g_compute_checksum_for_string(G_CHECKSUM_MD5, text, -1)!
        defer { g_free(sum) }
        return String(cString: sum)
    }
}

enum GLibMessage {
    static func of(_ error: UnsafeMutablePointer<GError>?) -> String {
        guard let error, let message = error.pointee.message else { return "unknown error" }
        return String(cString: message)
    }
}

public enum ThumbnailError: Error, CustomStringConvertible {
    case badPath(String, String)
    case unreadableImage(String, String)
    case cannotWrite(String, String)

    public var description: String {
        switch self {
        case .badPath(let path, let why): "no file URI for \(path): \(why)"
        case .unreadableImage(let path, let why): "cannot decode \(path): \(why)"
        case .cannotWrite(let path, let why): "cannot write \(path): \(why)"
        }
    }
}
