import GRDB

/// The schema, as a sequence of migrations that only ever grows.
enum LibraryMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: namespaces, videos, tags") { db in
            try db.create(table: "namespace") { t in
                t.primaryKey("name", .text)
                t.column("directory", .text).notNull().unique()
                t.column("file_token", .text).notNull().unique()
                t.column("created_at", .integer).notNull()
            }
            try db.create(table: "video") { t in
                t.primaryKey("video_no", .text)
                t.column("namespace", .text).notNull()
                t.column("video_name", .text).notNull()
                t.column("file_extension", .text).notNull()
                t.column("size", .integer).notNull()
                t.column("status", .text).notNull()
                t.column("cause", .text)
                t.column("create_time", .integer).notNull()
                t.column("duration", .integer)
                t.column("fps", .double)
                t.column("width", .integer)
                t.column("height", .integer)
                t.column("datetime_taken", .integer)
                t.column("camera_model", .text)
                t.column("latitude", .double)
                t.column("longitude", .double)
                t.column("callback_url", .text)
                t.column("retain_original", .boolean).notNull().defaults(to: true)
                t.column("has_original", .boolean).notNull().defaults(to: true)
                t.column("has_cover", .boolean).notNull().defaults(to: false)
                t.column("source_url", .text)
                t.column("tags", .text).notNull().defaults(to: "")
            }
            // Listing order is newest first within a namespace; every filter starts from the namespace.
            try db.create(index: "video_by_namespace_time", on: "video", columns: ["namespace", "create_time", "video_no"])
            try db.create(index: "video_by_name", on: "video", columns: ["namespace", "video_name"])
            try db.create(index: "video_by_status", on: "video", columns: ["namespace", "status", "create_time"])
            try db.create(index: "video_by_camera", on: "video", columns: ["namespace", "camera_model"])
            try db.create(index: "video_by_taken", on: "video", columns: ["namespace", "datetime_taken"])
            try db.create(index: "video_by_latitude", on: "video", columns: ["namespace", "latitude"])
            try db.create(table: "video_tag") { t in
                t.column("video_no", .text).notNull().references("video", onDelete: .cascade)
                t.column("position", .integer).notNull()
                t.column("tag", .text).notNull()
                t.primaryKey(["video_no", "tag"])
            }
            try db.create(index: "video_tag_by_tag", on: "video_tag", columns: ["tag", "video_no"])
        }
        migrator.registerMigration("v2: transcript and caption segments") { db in
            // One row per timed line of a video's speech transcript or visual captions, from the
            // subtitle tracks of the uploaded file. `folded` is the text lower-cased without
            // diacritics, so matching works beyond ASCII (SQLite's LIKE folds ASCII only).
            try db.create(table: "transcript_segment") { t in
                t.column("video_no", .text).notNull().references("video", onDelete: .cascade)
                t.column("track", .text).notNull()
                t.column("position", .integer).notNull()
                t.column("start_ms", .integer).notNull()
                t.column("end_ms", .integer).notNull()
                t.column("content", .text).notNull()
                t.column("folded", .text).notNull()
                t.primaryKey(["video_no", "track", "position"])
            }
        }
        return migrator
    }
}
