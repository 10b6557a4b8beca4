/// The sizes of the Thumbnail Managing Standard that file managers ask for.
public enum ThumbnailSize: String, CaseIterable, Sendable {
    /// 128 pixels on the longer side.
    case normal
    /// 256 pixels on the longer side.
    case large

    public var pixels: Int {
        switch self {
        case .normal: 128
        case .large: 256
        }
    }

    /// The folder's name, in the thumbnail cache and in a shared `.sh_thumbnails` repository.
    public var folderName: String { rawValue }
}
