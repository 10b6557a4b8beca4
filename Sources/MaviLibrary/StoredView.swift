import MaviAPI
import MaviClient

/// A folder's query whose last answer the listing store keeps: one status, tag or camera, as the
/// mount's views ask. Other queries (a lookup by id, the checks of a refresh) are not views and
/// are not kept.
public struct StoredView: Hashable, Sendable {
    /// How the view is named in the store.
    let key: String

    public init?(_ filter: VideoFilter) {
        var plain = filter
        plain.status = nil
        plain.tag = nil
        plain.cameraModel = nil
        guard plain == VideoFilter() else { return nil }
        switch (filter.status, filter.tag, filter.cameraModel) {
        case (let status?, nil, nil): key = "status:" + StoredStatus.text(status)
        case (nil, let tag?, nil): key = "tag:" + tag
        case (nil, nil, let camera?): key = "camera:" + camera
        default: return nil
        }
    }
}
