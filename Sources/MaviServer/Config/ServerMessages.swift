import MaviAPI

/// Messages the server uses beyond those in `APIMessage`. The live service's wording for these is
/// not documented (and msgs are not a stable contract), so they follow the style of the known ones.
enum ServerMessages {
    static let pageInvalid = "The page number must be greater than 0!"
    static let sizeInvalid = "The page size must be greater than 0!"
    static let uniqueIDEmpty = "The unique_id cannot be empty!"
    static let legacyDeleteTooMany = "The number of videos to delete cannot exceed 500!"
    static let fileMissing = "The upload file cannot be empty!"
    static let fileTypeUnsupported = "Only mp4, avi, mkv and mov video files are supported!"
    static let fileTooLarge = "The file size cannot exceed 3GB!"
    static let notMultipart = "Current request is not a multipart request"
    static let cameraModelTooLong = "The camera_model cannot exceed 200 characters!"
    static let callbackTooLong = "The callback cannot exceed 299 characters!"
    static let callbackInvalid = "The callback must be an http or https URL!"
    static let tooManyTags = "The number of tags cannot exceed 20!"
    static let datetimeTakenInvalid = "The datetime_taken must be formatted as yyyy-MM-dd HH:mm:ss!"
    static let latitudeInvalid = "The latitude must be a number between -90 and 90!"
    static let longitudeInvalid = "The longitude must be a number between -180 and 180!"
    static let urlMissing = "The url cannot be empty!"
    static let urlInvalid = "The url must be an http or https URL!"
    static let uploadIncomplete = "The upload ended before the multipart body was complete."

    /// What a Spring service says when a body does not bind; the `status` variant names the enum.
    static func jsonParseError(_ detail: String) -> String { "JSON parse error: \(detail)" }

    static func statusInvalid(_ value: String) -> String {
        jsonParseError(
            "Cannot deserialize value of type `VideoStatus` from String \"\(value)\": not one of the values accepted for Enum class: [\(VideoStatus.filterValues.joined(separator: ", "))]")
    }

    static let searchParamEmpty = "The search_param cannot be empty!"
    static let searchVideoNosTooMany = "The number of video_nos cannot exceed 100!"
    static let filteringLevelInvalid = "The filtering_level must be one of low, medium, high!"
    static let queryEmpty = "The query cannot be empty!"
    static let transcriptPageSizeInvalid = "The page_size must be between 1 and 500!"

    static func topKInvalid(max: Int) -> String { "The top_k must be between 1 and \(max)!" }

    static func searchTypeInvalid(_ value: String) -> String {
        jsonParseError(
            "Cannot deserialize value of type `SearchType` from String \"\(value)\": not one of the values accepted for Enum class: [\(SearchType.allCases.map(\.rawValue).joined(separator: ", "))]")
    }

    /// Causes recorded on videos that fail processing.
    static let causeNotAVideo = "The file is not a playable video."
    static let causeNoVideoStream = "The file has no video stream."
    static let causeFetchFailed = "The video could not be fetched from the url."
}
