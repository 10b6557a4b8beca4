import Foundation
import MaviAPI

/// The documented upload fields other than the file, validated.
struct UploadFields: Equatable {
    var namespace: String
    var callback: String?
    var datetimeTaken: Int64?
    var cameraModel: String?
    var latitude: Double?
    var longitude: Double?
    var tags: [String]
    var retainOriginal: Bool

    /// Validates fields in the order sent. `tags` may come as a repeated field, as `tags[0]`,
    /// `tags[1]`… (or `tags[]`), and — as Spring binds a list from one string — comma-separated.
    init(_ fields: [(name: String, value: String)]) throws {
        func first(_ name: String) -> String? {
            fields.first { $0.name == name }.map { $0.value.trimmingCharacters(in: .whitespacesAndNewlines) }
        }
        func nonBlank(_ name: String) -> String? { first(name).flatMap { $0.isEmpty ? nil : $0 } }

        namespace = nonBlank("unique_id") ?? APILimits.defaultNamespace

        callback = nonBlank("callback")
        if let callback {
            guard callback.count <= APILimits.maxCallbackLength else { throw APIFailure.invalid(ServerMessages.callbackTooLong) }
            guard let url = URL(string: callback), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                throw APIFailure.invalid(ServerMessages.callbackInvalid)
            }
        }

        cameraModel = nonBlank("camera_model")
        if let cameraModel, cameraModel.count > APILimits.maxCameraModelLength {
            throw APIFailure.invalid(ServerMessages.cameraModelTooLong)
        }

        datetimeTaken = try nonBlank("datetime_taken").map(Self.captureTime)

        latitude = try nonBlank("latitude").map { value in
            guard let d = Double(value), d.isFinite, (-90...90).contains(d) else { throw APIFailure.invalid(ServerMessages.latitudeInvalid) }
            return d
        }
        longitude = try nonBlank("longitude").map { value in
            guard let d = Double(value), d.isFinite, (-180...180).contains(d) else { throw APIFailure.invalid(ServerMessages.longitudeInvalid) }
            return d
        }

        var tags: [String] = []
        for field in fields where Self.isTagField(field.name) {
            for tag in field.value.split(separator: ",") {
                // Control characters have no place in a label (and separate tags in storage).
                let t = String(tag.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) })
                    .trimmingCharacters(in: .whitespaces)
                if !t.isEmpty, !tags.contains(t) { tags.append(t) }
            }
        }
        guard tags.count <= APILimits.maxUploadTags else { throw APIFailure.invalid(ServerMessages.tooManyTags) }
        self.tags = tags

        switch nonBlank("retain_original_video")?.lowercased() {
        case nil, "true", "1", "yes", "on": retainOriginal = true
        case "false", "0", "no", "off": retainOriginal = false
        case let other?:
            throw APIFailure.invalid("Failed to convert value '\(other)' of retain_original_video to boolean")
        }
    }

    static func isTagField(_ name: String) -> Bool {
        if name == "tags" || name == "tags[]" { return true }
        guard name.hasPrefix("tags["), name.hasSuffix("]") else { return false }
        return Int(name.dropFirst(5).dropLast()) != nil
    }

    /// `yyyy-MM-dd HH:mm:ss` (read as UTC) to epoch milliseconds; digits are taken as milliseconds.
    static func captureTime(_ text: String) throws -> Int64 {
        if let ms = Int64(text) { return ms }
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "-" || $0 == ":" }).compactMap { Int($0) }
        guard parts.count == 6, text.count == 19,
              (1...12).contains(parts[1]), (1...31).contains(parts[2]),
              (0...23).contains(parts[3]), (0...59).contains(parts[4]), (0...59).contains(parts[5])
        else { throw APIFailure.invalid(ServerMessages.datetimeTakenInvalid) }
        var components = DateComponents()
        components.year = parts[0]; components.month = parts[1]; components.day = parts[2]
        components.hour = parts[3]; components.minute = parts[4]; components.second = parts[5]
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let date = calendar.date(from: components) else { throw APIFailure.invalid(ServerMessages.datetimeTakenInvalid) }
        return Int64(date.timeIntervalSince1970) * 1000
    }
}
