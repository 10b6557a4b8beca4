import Logging
import MaviClient
import NIOCore

extension VideoReader {
    /// One ranged request for a run of claimed blocks. Its answer is used only when it is a `206`
    /// whose `Content-Range` is the range asked for and whose complete length is the listing's
    /// size; a `200` (Range ignored) marks the source range-less, and readers fall back to the
    /// stream.
    func runFetch(_ ticket: FetchTicket) async {
        let outcome = await fetch(ticket)
        state.withLock { $0.fetchEnded(ticket, outcome: outcome) }
        if outcome != .completed { await persist(ticket.entry, scope: .evictions) }
    }

    private func fetch(_ ticket: FetchTicket) async -> FetchOutcome {
        // Read-ahead takes one of its own places first; a fetch a read waits on goes before
        // read-ahead that waits for a slot.
        var prefetchSlot: Int?
        if !ticket.demand {
            guard let taken = try? await prefetchSlots.acquire(1) else { return .abandoned }
            prefetchSlot = taken
        }
        defer { if let prefetchSlot { prefetchSlots.release(prefetchSlot) } }
        guard let slot = try? await fetchSlots.acquire(1, urgent: ticket.demand) else { return .abandoned }
        defer { fetchSlots.release(slot) }
        guard state.withLock({ $0.fetchOwns(ticket.entry, fetch: ticket.fetchID, block: ticket.blocks.lowerBound) }) else {
            return .abandoned
        }
        let first = ticket.geometry.start(of: ticket.blocks.lowerBound)
        let end = ticket.geometry.end(of: ticket.blocks.upperBound)
        let origin = ticket.source.origin
        let sent = ContinuousClock.now
        do {
            switch try await client.fetchRange(ticket.source.url, range: first...(end - 1)) {
            case .ignored:
                if rangeSupport.recordIgnored(origin) {
                    logger.notice("the video source ignores Range; reads ahead will wait for the download", metadata: ["origin": "\(origin)"])
                }
                return .rangeless
            case .partial(let contentRange, let bytes):
                guard contentRange.completeLength.map({ $0 == ticket.geometry.fileSize }) ?? true, contentRange.last == end - 1 else {
                    logger.warning("ranged reply for another length than the listing's", metadata: [
                        "video_no": "\(state.withLock { $0.entries[ticket.entry]?.key.videoNo ?? "" })",
                        "content_range": "\(contentRange)", "size": "\(ticket.geometry.fileSize)",
                    ])
                    return .rangeless
                }
                rangeSupport.recordHonoured(origin)
                return try await ingest(bytes, ticket, from: first, sent: sent)
            }
        } catch MaviClientError.rangeMismatch {
            rangeSupport.recordIgnored(origin)
            return .rangeless
        } catch MaviClientError.rangeNotSatisfiable {
            return .rangeless
        } catch {
            if Task.isCancelled { return .abandoned }
            logger.notice("ranged fetch failed", metadata: ["origin": "\(origin)", "error": "\(error)"])
            return .failed
        }
    }

    private func ingest(_ bytes: ByteStream, _ ticket: FetchTicket, from start: Int64, sent: ContinuousClock.Instant) async throws -> FetchOutcome {
        let geometry = ticket.geometry
        var firstByte: ContinuousClock.Instant?
        // A prefetch that finds the cache full gives up at once; a read waiting for it waits.
        let patience: Duration = ticket.demand ? configuration.readTimeout : .zero
        var position = start
        for try await var chunk in bytes {
            if firstByte == nil { firstByte = .now }
            while chunk.readableBytes > 0 {
                let block = geometry.block(containing: position)
                let length = min(chunk.readableBytes, Int(geometry.end(of: block) - position))
                if position == geometry.start(of: block) {
                    let roomMade = await makeRoom(patience: patience) { $0.reserveForFetch(ticket, block: block) }
                    guard roomMade else { return .abandoned }
                } else if !state.withLock({ $0.fetchOwns(ticket.entry, fetch: ticket.fetchID, block: block) }) {
                    return .abandoned
                }
                try ticket.file.write(chunk.getSlice(at: chunk.readerIndex, length: length)!, at: position)
                chunk.moveReaderIndex(forwardBy: length)
                position += Int64(length)
                if position == geometry.end(of: block) {
                    state.withLock { $0.fetchCompleted(ticket, block: block) }
                } else {
                    // Written before it is announced: a read woken now finds these bytes in the file.
                    state.withLock { $0.fetchAdvanced(ticket, block: block, to: position) }
                }
            }
        }
        if let firstByte {
            let now = ContinuousClock.now
            originMeter.record(
                origin: ticket.source.origin, firstByte: (firstByte - sent).secondsValue, bytes: position - start,
                transfer: (now - firstByte).secondsValue)
        }
        return .completed
    }
}
