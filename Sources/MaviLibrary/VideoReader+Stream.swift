import Logging
import MaviClient
import NIOCore

extension VideoReader {
    /// The video's one download stream: every attempt starts at byte 0 (the endpoint knows no
    /// Range), writes the blocks nobody else has and skips the rest. A cut or stalled stream is
    /// tried again up to ``CacheConfiguration/downloadAttempts`` times; after that, reads that
    /// need its bytes fail with `EIO` for ``CacheConfiguration/failureCooldown``.
    func runStream(_ ticket: StreamTicket) async {
        logger.debug("download starting", metadata: ["video_no": "\(ticket.key.videoNo)", "size": "\(ticket.key.size)"])
        let outcome = await streamAttempts(ticket)
        switch outcome {
        case .finished: logger.debug("download finished", metadata: ["video_no": "\(ticket.key.videoNo)"])
        case .stopped: logger.debug("download stopped", metadata: ["video_no": "\(ticket.key.videoNo)"])
        case .failed(let error):
            logger.warning("download failed", metadata: ["video_no": "\(ticket.key.videoNo)", "error": "\(error)"])
        }
        let cooldown = configuration.failureCooldown
        state.withLock { $0.streamEnded(ticket.entry, stream: ticket.streamID, outcome: outcome, now: .now, cooldown: cooldown) }
        await persist(ticket.entry)
    }

    private func streamAttempts(_ ticket: StreamTicket) async -> StreamOutcome {
        var attempt = 1
        while true {
            guard state.withLock({ $0.streamAttemptStarting(ticket.entry, stream: ticket.streamID, attempt: attempt, now: .now) }) else {
                return .stopped
            }
            let failure: VideoReadError
            let retryable: Bool
            do {
                let bytes = try await client.download(videoNo: ticket.key.videoNo, expectedLength: ticket.key.size) {
                    self.state.withLock { $0.streamSent(ticket.entry, stream: ticket.streamID) }
                }
                logger.trace("download opened", metadata: ["video_no": "\(ticket.key.videoNo)", "attempt": "\(attempt)"])
                return try await ingest(bytes, ticket)
            } catch let error as MaviClientError {
                failure = .downloadFailed(error)
                retryable = error.isTransient
            } catch let error as VideoReadError {
                failure = error
                retryable = false
            } catch {
                failure = .downloadFailed(.transport(endpoint: .download, reason: "\(error)"))
                retryable = true
            }
            if Task.isCancelled || state.withLock({ $0.streamStopRequested(ticket.entry, stream: ticket.streamID) }) {
                return .stopped
            }
            guard retryable, attempt < configuration.downloadAttempts else { return .failed(failure) }
            let delay = configuration.downloadRetryDelay * (1 << min(attempt - 1, 6))
            logger.notice("download cut, trying again", metadata: [
                "video_no": "\(ticket.key.videoNo)", "attempt": "\(attempt)", "error": "\(failure)",
                "delay_ms": "\(Int(delay.secondsValue * 1000))",
            ])
            try? await Task.sleep(for: delay)
            attempt += 1
        }
    }

    /// Writes one attempt's bytes into the cache file, block by block. The bytes come in batches
    /// of chunks (whatever arrived while the last batch was written); the part of a batch that
    /// falls in one block is claimed, written and accounted at once, so a read waiting on the
    /// stream is woken at most one batch late, and never before its bytes are written.
    private func ingest(_ bytes: ByteStream, _ ticket: StreamTicket) async throws -> StreamOutcome {
        let geometry = BlockGeometry(fileSize: ticket.key.size, blockSize: state.withLock { $0.blockSize })
        var position: Int64 = 0
        var run: [ByteBuffer] = []
        while var batch = try await bytes.nextBatch() {
            while !batch.isEmpty {
                let block = geometry.block(containing: position)
                let room = Int(geometry.end(of: block) - position)
                // The run of the batch that falls in this block.
                run.removeAll(keepingCapacity: true)
                var length = 0
                while length < room, var chunk = batch.first {
                    let part = min(chunk.readableBytes, room - length)
                    if part == chunk.readableBytes {
                        run.append(batch.removeFirst())
                    } else {
                        run.append(chunk.readSlice(length: part)!)
                        batch[batch.startIndex] = chunk
                    }
                    length += part
                }
                var action = state.withLock { $0.streamWillWrite(ticket.entry, stream: ticket.streamID, block: block, offset: position) }
                while action == .settle {
                    logger.trace("download waits for an eviction", metadata: ["video_no": "\(ticket.key.videoNo)", "block": "\(block)"])
                    await persist(ticket.entry, scope: .evictions)
                    if Task.isCancelled { return .stopped }
                    action = state.withLock { $0.streamWillWrite(ticket.entry, stream: ticket.streamID, block: block, offset: position) }
                }
                var wrote: Int64 = 0
                switch action {
                case .stop:
                    return .stopped
                case .skip, .settle:
                    break
                case .write:
                    let roomMade = await makeRoom(patience: nil) {
                        $0.reserveForStream(ticket.entry, stream: ticket.streamID, block: block)
                    }
                    guard roomMade else { return .stopped }
                    try ticket.file.write(run, at: position)
                    wrote = Int64(length)
                }
                // Written or skipped: let go of the bytes now, not when the next batch comes (the
                // read-ahead counts them as freed once this batch was taken).
                run.removeAll(keepingCapacity: true)
                position += Int64(length)
                if position == geometry.end(of: block) {
                    logger.trace("download passed a block", metadata: ["video_no": "\(ticket.key.videoNo)", "block": "\(block)", "wrote": "\(wrote > 0)"])
                }
                let now = ContinuousClock.now
                switch state.withLock({ $0.streamAdvanced(ticket.entry, stream: ticket.streamID, to: position, wrote: wrote, now: now) }) {
                case .goOn: continue
                case .complete: return .finished
                case .stop: return .stopped
                }
            }
        }
        return .finished
    }

    /// Waits until the cache has room for a block its writer claimed, evicting as needed.
    /// Returns `false` when the writer should give up: its claim is gone, or the cache stayed
    /// full (every block in use) for longer than `patience` (`nil`: as long as the claim holds).
    func makeRoom(patience: Duration?, _ reserve: @escaping (inout CacheState) -> Reservation) async -> Bool {
        let started = ContinuousClock.now
        var busyRounds = 0
        while true {
            switch state.withLock({ reserve(&$0) }) {
            case .reserved:
                return true
            case .gone:
                return false
            case .evicting(let entries):
                for id in entries { await persist(id, scope: .evictions) }
            case .busy:
                // Space settling is usually freed by the flush that chose it; a block a read still
                // pinned when its writer gave up is punched by a later flush, so ask for one now
                // and then rather than wait for the periodic one.
                busyRounds += 1
                if busyRounds % 50 == 0 {
                    for id in state.withLock({ $0.dirtyEntries }) { await persist(id, scope: .evictions) }
                }
                try? await Task.sleep(for: .milliseconds(5))
            case .full:
                if let patience, ContinuousClock.now - started >= patience { return false }
                try? await Task.sleep(for: .milliseconds(20))
            }
            if Task.isCancelled { return false }
        }
    }
}
