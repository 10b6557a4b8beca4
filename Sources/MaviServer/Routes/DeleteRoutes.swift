import Foundation
import Hummingbird
import MaviAPI

/// The retired v1.0 body: a raw array, or `{"videoNos": [...]}` as its reference table describes.
private struct LegacyDeleteBody: Decodable {
    var videoNos: [String]

    init(from decoder: any Decoder) throws {
        if let array = try? decoder.singleValueContainer().decode([String].self) {
            videoNos = array
            return
        }
        let c = try decoder.container(keyedBy: FieldKey.self)
        videoNos = try c.strictStrings(FieldKey("videoNos")) ?? []
    }
}

extension Library {
    /// `POST /serve/api/v1/delete_videos?unique_id=` with a raw JSON array of 1…100 ids. Ids that
    /// do not exist in the namespace are a silent no-op; the answer is `data: null` either way.
    func deleteVideos(_ request: Request, _ context: LibraryRequestContext) async throws -> Response {
        let ids = try await JSONBody.decode([String].self, from: request, context: context, emptyBody: "[]")
        guard !ids.isEmpty else { throw APIFailure.invalid(APIMessage.deleteEmpty) }
        guard ids.count <= APILimits.maxDeleteBatch else { throw APIFailure.invalid(APIMessage.deleteTooMany) }
        let namespace = Self.namespaceName(request.uri.queryParameters.get("unique_id"))
        try await removeVideos(ids, namespace: namespace)
        return JSONReply.successWithoutData()
    }

    /// `DELETE /api/serve/video/delete`: the retired v1.0 endpoint, up to 500 ids. It predates
    /// namespaces, so it matches ids in any namespace unless `unique_id` is given.
    func legacyDelete(_ request: Request, _ context: LibraryRequestContext) async throws -> Response {
        let ids = try await JSONBody.decode(LegacyDeleteBody.self, from: request, context: context, emptyBody: "[]").videoNos
        guard !ids.isEmpty else { throw APIFailure.invalid(APIMessage.deleteEmpty) }
        guard ids.count <= APILimits.maxLegacyDeleteBatch else { throw APIFailure.invalid(ServerMessages.legacyDeleteTooMany) }
        let namespace = request.uri.queryParameters.get("unique_id").flatMap { $0.isEmpty ? nil : $0 }
        try await removeVideos(ids, namespace: namespace)
        return JSONReply.successWithoutData()
    }

    /// Deletes metadata first (so the videos vanish from every listing at once), then files.
    /// Streams already open keep reading the unlinked file until they finish.
    func removeVideos(_ ids: [String], namespace: String?) async throws {
        let deleted = try await database.delete(ids, namespace: namespace)
        for record in deleted {
            let ns = try await database.namespace(named: record.namespace)
            try? FileManager.default.removeItem(atPath: originalPath(record, in: ns))
            try? FileManager.default.removeItem(atPath: coverPath(record, in: ns))
        }
        if !deleted.isEmpty {
            logger.info("deleted \(deleted.count) video(s)")
        }
    }
}
