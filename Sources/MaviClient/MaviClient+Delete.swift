import MaviAPI
import NIOHTTP1

extension MaviClient {
    /// Deletes videos for good, in requests of at most 100 ids (the documented maximum), one
    /// after another within the delete rate limit. Unknown ids are ignored by the service.
    ///
    /// Batches already sent stay deleted when a later one fails; `onBatchDeleted` hears each batch
    /// as it succeeds, so a caller can tell which.
    public func deleteVideos(_ videoNos: [String], onBatchDeleted: (@Sendable ([String]) -> Void)? = nil) async throws {
        var seen = Set<String>()
        let ids = videoNos.filter { seen.insert($0).inserted }
        guard !ids.isEmpty else { return }
        if ids.contains(where: \.isEmpty) {
            throw MaviClientError.invalidRequest(endpoint: .deleteVideos, reason: "empty video number")
        }
        let batchSize = APILimits.maxDeleteBatch
        for start in stride(from: 0, to: ids.count, by: batchSize) {
            let batch = Array(ids[start..<min(start + batchSize, ids.count)])
            _ = try await callJSON(
                .deleteVideos, method: .POST,
                query: ["unique_id": configuration.namespace],
                body: Self.jsonBody(batch),
                decoding: EmptyPayload.self
            )
            logger.info("deleted videos", metadata: ["count": "\(batch.count)"])
            onBatchDeleted?(batch)
        }
    }
}
