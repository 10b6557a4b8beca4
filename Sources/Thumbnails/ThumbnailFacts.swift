/// What a thumbnail records of the file it stands for (the standard's `Thumb::` tEXt keys). A
/// reader takes the thumbnail as valid only while the URI and `mtime` (and the size, when given)
/// match the file's.
public struct ThumbnailFacts: Sendable, Equatable {
    public var uri: String
    /// The file's `st_mtime`, in whole seconds.
    public var mtime: Int
    /// The file's `st_size`.
    public var size: UInt64
    public var mimeType: String
    /// The video's length in whole seconds, when known.
    public var movieLength: Int?

    public init(uri: String, mtime: Int, size: UInt64, mimeType: String, movieLength: Int? = nil) {
        self.uri = uri
        self.mtime = mtime
        self.size = size
        self.mimeType = mimeType
        self.movieLength = movieLength
    }

    /// The tEXt chunks, keyed as the standard names them.
    var textKeys: [(String, String)] {
        var keys = [("Thumb::URI", uri), ("Thumb::MTime", String(mtime)), ("Thumb::Size", String(size)),
                    ("Thumb::Mimetype", mimeType)]
        if let movieLength { keys.append(("Thumb::Movie::Length", String(movieLength))) }
        keys.append(("Software", "mavifs"))
        return keys
    }
}
