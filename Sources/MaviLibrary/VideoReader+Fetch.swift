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
        guard let lead = ticket.lead else {
            return await request(first..<end, of: ticket, reserved: nil, measured: true)
        }
        // Begun at the waiting read: its part goes first, and the bytes of the block before it
        // come by a second request at the same time. Both write the one block, reserved here.
        let block = ticket.blocks.lowerBound
        let patience: Duration = configuration.readTimeout
        guard await makeRoom(patience: patience, { $0.reserveForFetch(ticket, block: block) }) else { return .abandoned }
        async let head = request(first..<lead, of: ticket, reserved: block, measured: false)
        let main = await request(lead..<end, of: ticket, reserved: block, measured: true)
        return FetchOutcome.combined(main, await head)
    }

    /// One ranged request for `range` of the ticket's blocks. `reserved` is a block whose room
    /// was already made.
    private func request(_ range: Range<Int64>, of ticket: FetchTicket, reserved: Int?, measured: Bool) async -> FetchOutcome {
        let origin = ticket.source.origin
        let sent = ContinuousClock.now
        logger.debug("ranged request", metadata: [
            "entry": "\(ticket.entry)", "range": "\(range.lowerBound)-\(range.upperBound - 1)", "demand": "\(ticket.demand)",
        ])
        defer {
            logger.debug("ranged request ended", metadata: [
                "entry": "\(ticket.entry)", "range": "\(range.lowerBound)-\(range.upperBound - 1)",
                "ms": "\(Int((ContinuousClock.now - sent).secondsValue * 1000))",
            ])
        }
        do {
            switch try await client.fetchRange(ticket.source.url, range: range.lowerBound...(range.upperBound - 1)) {
            case .ignored:
                if rangeSupport.recordIgnored(origin) {
                    logger.notice("the video source ignores Range; reads ahead will wait for the download", metadata: ["origin": "\(origin)"])
                }
                return .rangeless
            case .partial(let contentRange, let bytes):
                guard contentRange.completeLength.map({ $0 == ticket.geometry.fileSize }) ?? true, contentRange.last == range.upperBound - 1 else {
                    logger.warning("ranged reply for another length than the listing's", metadata: [
                        "video_no": "\(state.withLock { $0.entries[ticket.entry]?.key.videoNo ?? "" })",
                        "content_range": "\(contentRange)", "size": "\(ticket.geometry.fileSize)",
                    ])
                    return .rangeless
                }
                rangeSupport.recordHonoured(origin)
                return try await ingest(bytes, ticket, range: range, reserved: reserved, sent: measured ? sent : nil)
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

    /// Writes a reply's bytes into their blocks and announces them. `sent` (when the request is
    /// one to measure the origin's link by) is when it was sent.
    private func ingest(
        _ bytes: ByteStream, _ ticket: FetchTicket, range: Range<Int64>, reserved: Int?, sent: ContinuousClock.Instant?
    ) async throws -> FetchOutcome {
        let geometry = ticket.geometry
        var firstByte: ContinuousClock.Instant?
        // A prefetch that finds the cache full gives up at once; a read waiting for it waits.
        let patience: Duration = ticket.demand ? configuration.readTimeout : .zero
        var position = range.lowerBound
        for try await var chunk in bytes {
            if firstByte == nil { firstByte = .now }
            while chunk.readableBytes > 0 {
                let block = geometry.block(containing: position)
                let blockStart = geometry.start(of: block)
                let length = min(chunk.readableBytes, Int(min(geometry.end(of: block), range.upperBound) - position))
                if position == blockStart, block != reserved {
                    let roomMade = await makeRoom(patience: patience) { $0.reserveForFetch(ticket, block: block) }
                    guard roomMade else { return .abandoned }
                } else if !state.withLock({ $0.fetchOwns(ticket.entry, fetch: ticket.fetchID, block: block) }) {
                    return .abandoned
                }
                try ticket.file.write(chunk.getSlice(at: chunk.readerIndex, length: length)!, at: position)
                chunk.moveReaderIndex(forwardBy: length)
                position += Int64(length)
                // Written before it is announced: a read woken now finds these bytes in the file.
                let part = max(range.lowerBound, blockStart)..<position
                state.withLock { $0.fetchWrote(ticket, block: block, part: part) }
            }
        }
        if let sent, let firstByte {
            let now = ContinuousClock.now
            originMeter.record(
                origin: ticket.source.origin, firstByte: (firstByte - sent).secondsValue, bytes: position - range.lowerBound,
                transfer: (now - firstByte).secondsValue)
        }
        return .completed
    }
}
