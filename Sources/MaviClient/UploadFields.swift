import Foundation
import MaviAPI

/// The form fields sent with an uploaded file, besides the file and the namespace.
public struct UploadFields: Sendable, Equatable {
    /// At most 20; the service adds auto-generated tags and `api` to them.
    public var tags: [String]
    /// At most 200 characters.
    public var cameraModel: String?
    /// Capture time as `yyyy-MM-dd HH:mm:ss` (see ``formatTakenAt(_:timeZone:)``).
    public var takenAt: String?
    public var location: GeoPoint?
    /// A URL the service POSTs to when processing ends; at most 299 characters.
    public var callback: String?
    /// The service keeps the original file unless this is `false`.
    public var retainOriginalVideo: Bool?
    /// The file name to send instead of the file's own.
    public var fileName: String?

    public init(
        tags: [String] = [], cameraModel: String? = nil, takenAt: String? = nil, location: GeoPoint? = nil,
        callback: String? = nil, retainOriginalVideo: Bool? = nil, fileName: String? = nil
    ) {
        self.tags = tags
        self.cameraModel = cameraModel
        self.takenAt = takenAt
        self.location = location
        self.callback = callback
        self.retainOriginalVideo = retainOriginalVideo
        self.fileName = fileName
    }

    /// A date in the form the upload's `datetime_taken` field takes.
    public static func formatTakenAt(_ date: Date, timeZone: TimeZone = .current) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = APILimits.uploadDateFormat
        return formatter.string(from: date)
    }

    /// Whether `text` is a valid `yyyy-MM-dd HH:mm:ss` date and time.
    public static func isValidTakenAt(_ text: String) -> Bool {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = APILimits.uploadDateFormat
        formatter.isLenient = false
        guard let date = formatter.date(from: text) else { return false }
        return formatter.string(from: date) == text
    }

    /// The documented limits, checked before anything is sent.
    func validate() throws(MaviClientError) {
        func refuse(_ reason: String) -> MaviClientError { .invalidRequest(endpoint: .upload, reason: reason) }
        if tags.count > APILimits.maxUploadTags { throw refuse("at most \(APILimits.maxUploadTags) tags, got \(tags.count)") }
        if tags.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) { throw refuse("empty tag") }
        if let cameraModel, cameraModel.count > APILimits.maxCameraModelLength {
            throw refuse("camera model longer than \(APILimits.maxCameraModelLength) characters")
        }
        if let callback, callback.count > APILimits.maxCallbackLength {
            throw refuse("callback URL longer than \(APILimits.maxCallbackLength) characters")
        }
        if let takenAt, !Self.isValidTakenAt(takenAt) {
            throw refuse("capture time '\(takenAt)' is not in the form \(APILimits.uploadDateFormat)")
        }
        if let location, !(-90...90).contains(location.latitude) || !(-180...180).contains(location.longitude) {
            throw refuse("latitude must be within ±90 and longitude within ±180")
        }
    }
}

/// What an upload is doing, for a progress display.
public enum UploadProgress: Sendable, Equatable {
    /// Waiting this long for the upload rate limit (1 per minute on the live service).
    case waitingForRateLimit(Duration)
    /// Bytes of the file sent so far, of the total.
    case sending(sent: Int64, total: Int64)
    /// The whole body is sent; the server is storing it.
    case awaitingReply
    /// The attempt failed in a way that is safe to repeat; the next starts after the delay.
    case retrying(attempt: Int, after: Duration, reason: String)
}
