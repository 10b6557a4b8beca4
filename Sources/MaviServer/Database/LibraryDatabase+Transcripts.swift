import Foundation
import GRDB
import MaviAPI

/// One stored line of a transcript or caption track.
struct StoredSegment: Sendable, Equatable {
    var videoNo: String
    var track: TranscriptTrack
    var position: Int
    var startMs: Int64
    var endMs: Int64
    var content: String

    var segment: TranscriptSegment {
        TranscriptSegment(index: position, content: content, startTime: Double(startMs) / 1000, endTime: Double(endMs) / 1000)
    }
}

extension LibraryDatabase {
    /// Replaces a video's segments of `track` (processing runs again after a restart). A video
    /// deleted meanwhile stores nothing.
    func storeSegments(_ segments: [TranscriptSegment], track: TranscriptTrack, videoNo: String) async throws {
        try await pool.write { db in
            guard try VideoRecord.exists(db, key: videoNo) else { return }
            try db.execute(sql: "DELETE FROM transcript_segment WHERE video_no = ? AND track = ?", arguments: [videoNo, track.rawValue])
            for (offset, segment) in segments.enumerated() {
                try db.execute(
                    sql: "INSERT INTO transcript_segment (video_no, track, position, start_ms, end_ms, content, folded) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    arguments: [
                        videoNo, track.rawValue, offset + 1, Self.milliseconds(segment.startTime), Self.milliseconds(segment.endTime),
                        segment.content, LexicalQuery.fold(segment.content),
                    ])
            }
        }
    }

    /// A video's segments of `track`, in order; empty when it has none.
    func segments(videoNo: String, track: TranscriptTrack) async throws -> [StoredSegment] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT video_no, position, start_ms, end_ms, content FROM transcript_segment
                WHERE video_no = ? AND track = ? ORDER BY position
                """, arguments: [videoNo, track.rawValue]).map { Self.segment($0, track: track) }
        }
    }

    /// The parsed videos of a namespace that pass `search`'s filters (the same filters, with the
    /// same meaning, as `list_videos`).
    func searchCandidates(_ query: VideoListQuery) async throws -> [VideoRecord] {
        try await pool.read { db in
            try Self.filtered(query)
                .filter(VideoRecord.Columns.status == VideoStatus.parsed.wireValue)
                .order(VideoRecord.Columns.createTime.desc, VideoRecord.Columns.videoNo.desc)
                .fetchAll(db)
        }
    }

    /// Segments of `tracks` of the namespace's parsed videos whose text holds any of `terms`
    /// (folded) anywhere; the caller ranks them by words.
    func segmentsContaining(anyOf terms: [String], tracks: [TranscriptTrack], namespace: String) async throws -> [StoredSegment] {
        guard !terms.isEmpty, !tracks.isEmpty else { return [] }
        return try await pool.read { db in
            let trackList = tracks.map { _ in "?" }.joined(separator: ", ")
            let termTests = terms.map { _ in "instr(s.folded, ?) > 0" }.joined(separator: " OR ")
            var arguments: [any DatabaseValueConvertible] = [namespace, VideoStatus.parsed.wireValue]
            arguments += tracks.map(\.rawValue) as [any DatabaseValueConvertible]
            arguments += terms as [any DatabaseValueConvertible]
            let rows = try Row.fetchAll(db, sql: """
                SELECT s.video_no, s.position, s.start_ms, s.end_ms, s.content, s.track FROM transcript_segment s
                JOIN video v ON v.video_no = s.video_no
                WHERE v.namespace = ? AND v.status = ? AND s.track IN (\(trackList)) AND (\(termTests))
                """, arguments: StatementArguments(arguments))
            return rows.compactMap { row in
                TranscriptTrack(rawValue: row[5]).map { Self.segment(row, track: $0) }
            }
        }
    }

    /// Speech segments of the namespace's parsed videos holding `phrase` (folded) as it is, newest
    /// video first, then in time order: one page of them and how many there are in all.
    func phraseMatches(_ phrase: String, namespace: String, offset: Int, limit: Int) async throws -> (total: Int, matches: [(VideoRecord, StoredSegment)]) {
        try await pool.read { db in
            let filter = """
                FROM transcript_segment s JOIN video v ON v.video_no = s.video_no
                WHERE v.namespace = ? AND v.status = ? AND s.track = ? AND instr(s.folded, ?) > 0
                """
            let arguments: StatementArguments = [namespace, VideoStatus.parsed.wireValue, TranscriptTrack.speech.rawValue, phrase]
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) " + filter, arguments: arguments) ?? 0
            let rows = try Row.fetchAll(db, sql: """
                SELECT s.video_no, s.position, s.start_ms, s.end_ms, s.content \(filter)
                ORDER BY v.create_time DESC, v.video_no DESC, s.position LIMIT ? OFFSET ?
                """, arguments: arguments + [limit, offset])
            let segments = rows.map { Self.segment($0, track: .speech) }
            let videos = try VideoRecord.fetchAll(db, keys: Set(segments.map(\.videoNo)))
            let byNumber = Dictionary(videos.map { ($0.videoNo, $0) }, uniquingKeysWith: { a, _ in a })
            return (total, segments.compactMap { segment in byNumber[segment.videoNo].map { ($0, segment) } })
        }
    }

    private static func segment(_ row: Row, track: TranscriptTrack) -> StoredSegment {
        StoredSegment(videoNo: row[0], track: track, position: row[1], startMs: row[2], endMs: row[3], content: row[4])
    }

    private static func milliseconds(_ seconds: Double) -> Int64 {
        Int64((max(0, seconds) * 1000).rounded())
    }
}
