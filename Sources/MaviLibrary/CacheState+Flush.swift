import Foundation

/// How much a flush makes durable.
enum FlushScope {
    /// Everything: the record names every complete block (the data is synced first).
    case full
    /// Only what evictions need: blocks being evicted leave the record, nothing is added, so no
    /// data sync is needed; then their bytes are punched out. Cheap enough for the path of a
    /// writer waiting for room.
    case evictions
}

/// One flush of one cache file's record: make the data durable, replace the record, then punch
/// out the blocks being evicted. In that order, a crash at any point leaves a record that names
/// only blocks whose bytes are on disk.
struct FlushJob: Sendable {
    let key: CacheKey
    let dataPath: String
    let recordPath: String
    /// `nil` when the record on disk needs no change.
    let record: BlockRecord?
    /// The record names blocks written since the last sync.
    let syncData: Bool
    let punches: [(block: Int, range: Range<Int64>)]
    /// Some punched blocks were named by the old record: the new one must be durable first.
    let punchesNeedRecord: Bool
    let file: CacheFile?

    /// Runs the file work (on NIO's thread pool). Returns whether the record was written. Holes
    /// that the old record named are only punched once the new record is durable, so the record
    /// on disk always tells the truth.
    func perform() -> (recordWritten: Bool, error: VideoReadError?) {
        let file = file ?? (try? CacheFile.open(path: dataPath, size: key.size, create: false))
        if let record {
            do {
                if syncData { try file?.syncData() }
                try CacheFiles.writeRecord(record, to: recordPath)
            } catch {
                return (false, error)
            }
            if punchesNeedRecord { CacheFiles.syncDirectory((recordPath as NSString).deletingLastPathComponent) }
        } else if punchesNeedRecord {
            return (false, nil)
        }
        guard let file else { return (record != nil, nil) }
        for punch in punches {
            do {
                try file.punchHole(punch.range)
            } catch {
                // No record names the block, so it is absent either way; only its disk space
                // stays in use until the file goes.
                return (record != nil, error)
            }
        }
        return (record != nil, nil)
    }
}

extension CacheState {
    /// Snapshots what the next record must say, or `nil` when there is nothing to do.
    mutating func beginFlush(_ id: EntryID, scope: FlushScope, layout: CacheLayout) -> FlushJob? {
        guard let entry = entries[id] else { return nil }
        // A block whose writer gave up after a read was served its written prefix is still
        // pinned by that read (or by the lease of a reply that hands the kernel the cache file):
        // its bytes stay until the pin goes, and a later flush punches them.
        let evicting = entry.slots.indices.filter { entry.slots[$0].phase == .evicting && entry.slots[$0].pins == 0 }
        let evictingDurable = evicting.contains { entry.slots[$0].durable }
        let writeRecord: Bool
        var present = BlockBitmap(count: entry.geometry.blockCount)
        var syncData = false
        switch scope {
        case .full:
            guard entry.recordDirty || !evicting.isEmpty else { return nil }
            writeRecord = entry.recordDirty || evictingDurable
            entry.recordDirty = false
            for block in entry.slots.indices where entry.slots[block].phase == .present {
                present[block] = true
                if !entry.slots[block].durable { syncData = true }
            }
        case .evictions:
            guard !evicting.isEmpty else { return nil }
            writeRecord = evictingDurable
            for block in entry.slots.indices where entry.slots[block].phase == .present && entry.slots[block].durable {
                present[block] = true
            }
        }
        let needsRecord = writeRecord && (entry.recordOnDisk || entry.presentCount > 0)
        return FlushJob(
            key: entry.key, dataPath: layout.dataFile(entry.key), recordPath: layout.recordFile(entry.key),
            record: needsRecord ? BlockRecord(geometry: entry.geometry, present: present) : nil,
            syncData: syncData,
            punches: evicting.map { ($0, entry.geometry.start(of: $0)..<entry.geometry.end(of: $0)) },
            punchesNeedRecord: evictingDurable && entry.recordOnDisk,
            file: entry.file)
    }

    mutating func endFlush(_ id: EntryID, job: FlushJob, recordWritten: Bool) {
        guard let entry = entries[id] else { return }
        if recordWritten, let record = job.record {
            entry.recordOnDisk = true
            for block in entry.slots.indices { entry.slots[block].durable = record.present[block] }
        } else if job.record != nil {
            entry.recordDirty = true
        }
        finishEviction(entry, blocks: job.punches.map(\.block))
    }

    var dirtyEntries: [EntryID] {
        entries.values.filter { $0.recordDirty || $0.evictingCount > 0 }.map(\.id)
    }
}
