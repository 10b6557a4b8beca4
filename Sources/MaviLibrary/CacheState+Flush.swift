import Foundation

/// One flush of one cache file's record: make the data durable, replace the record, then punch
/// out the blocks being evicted. In that order, a crash at any point leaves a record that names
/// only blocks whose bytes are on disk.
struct FlushJob: Sendable {
    let key: CacheKey
    let dataPath: String
    let recordPath: String
    /// `nil` when no record needs writing (the file never had a complete block).
    let record: BlockRecord?
    let punches: [(block: Int, range: Range<Int64>)]
    let file: CacheFile?

    /// Runs the file work (on NIO's thread pool). Returns whether the record was written; the
    /// holes are only punched when it was, so the record on disk always tells the truth.
    func perform() -> (recordWritten: Bool, error: VideoReadError?) {
        let file = file ?? (try? CacheFile.open(path: dataPath, size: key.size, create: false))
        if let record {
            do {
                try file?.syncData()
                try CacheFiles.writeRecord(record, to: recordPath)
            } catch {
                return (false, error)
            }
        }
        guard !punches.isEmpty, let file else { return (record != nil, nil) }
        CacheFiles.syncDirectory((recordPath as NSString).deletingLastPathComponent)
        for punch in punches {
            do {
                try file.punchHole(punch.range)
            } catch {
                // The record no longer names the block, so it is absent either way; only its disk
                // space stays in use until the file goes.
                return (record != nil, error)
            }
        }
        return (record != nil, nil)
    }
}


extension CacheState {
    /// Snapshots what the next record must say, or `nil` when nothing changed.
    mutating func beginFlush(_ id: EntryID, layout: CacheLayout) -> FlushJob? {
        guard let entry = entries[id] else { return nil }
        let evicting = entry.slots.indices.filter { entry.slots[$0].phase == .evicting }
        guard entry.recordDirty || !evicting.isEmpty else { return nil }
        entry.recordDirty = false
        var present = BlockBitmap(count: entry.geometry.blockCount)
        for block in entry.slots.indices where entry.slots[block].phase == .present { present[block] = true }
        let needsRecord = entry.recordOnDisk || entry.presentCount > 0
        return FlushJob(
            key: entry.key, dataPath: layout.dataFile(entry.key), recordPath: layout.recordFile(entry.key),
            record: needsRecord ? BlockRecord(geometry: entry.geometry, present: present) : nil,
            punches: evicting.map { ($0, entry.geometry.start(of: $0)..<entry.geometry.end(of: $0)) },
            file: entry.file)
    }

    mutating func endFlush(_ id: EntryID, job: FlushJob, recordWritten: Bool) {
        guard let entry = entries[id] else { return }
        if recordWritten {
            entry.recordOnDisk = true
        } else if job.record != nil {
            entry.recordDirty = true
        }
        finishEviction(entry, blocks: job.punches.map(\.block))
    }

    var dirtyEntries: [EntryID] {
        entries.values.filter { $0.recordDirty || $0.evictingCount > 0 }.map(\.id)
    }
}
