/// Business codes carried in the envelope's `code` field.
public enum APICode: String, Sendable, CaseIterable {
    case success = "0000"
    /// A parameter is wrong; `msg` says which (not a stable contract). Also used for "network abnormal".
    case invalidParameter = "0001"
    /// Another spelling of a parameter error.
    case invalidParameterAlt = "0003"
    case unauthorized = "0401"
    case insufficientBalance = "0402"
    case accountDisabled = "0403"
    case duplicateRequest = "0409"
    case rateLimited = "0429"
    case permissionDenied = "9009"
}

/// Messages the live service uses, kept in one place so the server and tests agree on them.
public enum APIMessage {
    public static let success = "success"
    public static let rateLimited = "Request has exceeded the limit."
    public static let unauthorized = "Authorization is invalid or missing."
    public static let networkAbnormal = "network abnormal"
    public static let deleteEmpty = "The video number list cannot be empty!"
    public static let deleteTooMany = "The number of videos to delete cannot exceed 100!"
    public static let downloadFailed = "download video error"
    public static let videoNoEmpty = "The video number cannot be empty!"
    public static let latLonTogether = "The latitude and longitude parameters must be provided together."
    public static let resourceMissing = "Resource does not exist"
    public static let bucketEmpty = "Bucket cannot be null or empty"
}
