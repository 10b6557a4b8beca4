import AsyncHTTPClient
import Foundation
import NIOCore
import MaviAPI
import MaviServer
import Testing
import TestSupport

@Suite("Fault injection and stats")
struct FaultTests {
    /// A seeded video whose original is a 1 MiB file of known bytes.
    private func seededVideo(_ server: RunningLibraryServer) async throws -> (videoNo: String, size: Int) {
        let source = server.libraryDirectory + "/seed-source.mp4"
        try VideoFixtures.makeNonVideo(at: source, count: 1 << 20, seed: 7)
        let videoNo = try #require(try await server.server.seedVideos(count: 1, sourceFile: source).first)
        return (videoNo, 1 << 20)
    }

    @Test("Faults are off by default and set, read and cleared through /_admin/faults")
    func adminRoundTrip() async throws {
        try await ServerHarness.withServer { server async throws in
            let open = TestAPI(server).withKey(nil)
            #expect(try JSONDecoder().decode(FaultSettings.self, from: try await open.get("/_admin/faults").body).isEmpty)
            let body = #"{"latency_ms":5,"http_503":2,"endpoints":["get_metadata"]}"#
            let set = try await open.send(.POST, "/_admin/faults", body: Data(body.utf8))
            #expect(set.status == 200)
            let active = try JSONDecoder().decode(FaultSettings.self, from: set.body)
            #expect(active == FaultSettings(latencyMs: 5, http503: 2, endpoints: [.getMetadata]))
            #expect(server.server.faults == active)
            #expect(try await open.send(.POST, "/_admin/faults", body: Data("{nope".utf8)).status == 400)
            #expect(try await open.send(.DELETE, "/_admin/faults").status == 200)
            #expect(server.server.faults.isEmpty)
        }
    }

    @Test("HTTP 503 bursts: N requests get a gateway error, then service resumes")
    func serviceUnavailableBurst() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            server.server.setFaults(FaultSettings(http503: 2, endpoints: [.listVideos]))
            for _ in 0..<2 {
                let reply = try await api.post(APIPath.listVideos, json: "{}")
                #expect(reply.status == 503)
                let body = try JSONDecoder().decode(InfrastructureErrorBody.self, from: reply.body)
                #expect(body.status == 503 && body.path == APIPath.listVideos)
            }
            // Other endpoints were never affected, and the burst is used up.
            #expect(try await api.metadata("VI1").isSuccess)
            #expect(try await api.post(APIPath.listVideos, json: "{}").status == 200)
            #expect(server.server.stats().requests(.listVideos) == 3)
        }
    }

    @Test("0429 bursts answer the rate-limit envelope even with limits off")
    func rateLimitBurst() async throws {
        try await ServerHarness.withServer(rateLimits: false) { server async throws in
            let api = TestAPI(server)
            server.server.setFaults(FaultSettings(rateLimited: 1))
            let limited = try await api.list()
            #expect(limited.code == APICode.rateLimited.rawValue && limited.msg == APIMessage.rateLimited)
            #expect(try await api.list().isSuccess)
        }
    }

    @Test("Added latency delays each request")
    func latency() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            server.server.setFaults(FaultSettings(latencyMs: 300, endpoints: [.listVideos]))
            let clock = ContinuousClock()
            let start = clock.now
            #expect(try await api.list().isSuccess)
            #expect(clock.now - start >= .milliseconds(300))
        }
    }

    @Test("A hang answers nothing until the faults change, then answers")
    func hangUntilCleared() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let (videoNo, _) = try await seededVideo(server)
            server.server.setFaults(FaultSettings(hang: true, endpoints: [.listVideos]))
            let waiting = Task { try await api.list() }
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await api.metadata(videoNo).data?.videoNo == videoNo, "other endpoints still answer")
            #expect(server.server.stats().requests(.listVideos) == 1)
            server.server.setFaults(FaultSettings())
            let start = ContinuousClock.now
            #expect(try await waiting.value.isSuccess)
            #expect(ContinuousClock.now - start < .seconds(5))
        }
    }

    @Test("A hung delete whose client gave up is not carried out when the hang ends")
    func hungDeleteIsDropped() async throws {
        try await ServerHarness.withServer { server async throws in
            let (videoNo, _) = try await seededVideo(server)
            server.server.setFaults(FaultSettings(hang: true, endpoints: [.deleteVideos]))
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            var request = HTTPClientRequest(url: server.baseURL + APIPath.deleteVideos)
            request.method = .POST
            request.headers.add(name: "Authorization", value: server.apiKey)
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: #"{"video_nos":["\#(videoNo)"]}"#))
            await #expect(throws: (any Error).self) { _ = try await http.execute(request, timeout: .milliseconds(500)) }
            try await http.shutdown()
            try await Task.sleep(for: .milliseconds(200))
            server.server.setFaults(FaultSettings())
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await TestAPI(server).metadata(videoNo).data?.videoNo == videoNo, "the video is still there")
        }
    }

    @Test("A slowed stream arrives whole at about the pace set")
    func slowStream() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let (videoNo, size) = try await seededVideo(server)
            server.server.setFaults(FaultSettings(streamBytesPerSecond: 2 << 20, endpoints: [.download]))
            let start = ContinuousClock.now
            let reply = try await api.download(videoNo)
            let elapsed = ContinuousClock.now - start
            #expect(reply.body.count == size)
            #expect(elapsed >= .milliseconds(400), "1 MiB at 2 MiB/s takes about half a second (\(elapsed))")
        }
    }

    @Test("A cut stream stops after N bytes and the connection closes")
    func cutStream() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let (videoNo, size) = try await seededVideo(server)
            server.server.setFaults(FaultSettings(cutAfterBytes: 65_536, cutCount: 1))
            let body = try JSONEncoder().encode(["video_no": videoNo])
            let cut = await api.streamedByteCount(.POST, APIPath.download, body: body)
            #expect(cut.status == 200)
            #expect(cut.error != nil)
            #expect(cut.bytes == 65_536)
            // The count is used up: the next stream is whole.
            let whole = await api.streamedByteCount(.POST, APIPath.download, body: body)
            #expect(whole.error == nil && whole.bytes == size)

            // File URLs can be cut too, and their Content-Length tells the client it is short.
            server.server.setFaults(FaultSettings(cutAfterBytes: 1000, endpoints: [.file]))
            let url = try #require(try await api.metadata(videoNo).data?.videoURL)
            let path = String(url.dropFirst(server.baseURL.count))
            let cutFile = await api.streamedByteCount(.GET, path)
            #expect(cutFile.error != nil && cutFile.bytes == 1000)
            #expect(server.server.stats().downloads[videoNo] == 2)
        }
    }

    @Test("A stalled stream sends N bytes, then nothing until the stall ends and the connection closes")
    func stalledStream() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let (videoNo, _) = try await seededVideo(server)
            server.server.setFaults(FaultSettings(stallAfterBytes: 4096, stallCount: 1, stallMs: 600))
            let clock = ContinuousClock()
            let start = clock.now
            let stalled = await api.streamedByteCount(.POST, APIPath.download, body: try JSONEncoder().encode(["video_no": videoNo]))
            #expect(clock.now - start >= .milliseconds(600))
            #expect(stalled.error != nil && stalled.bytes == 4096)
        }
    }

    @Test("A stall without an end is released when the client gives up, and shutdown is not held up")
    func endlessStall() async throws {
        let clock = ContinuousClock()
        var stopped = clock.now
        // A held-up shutdown would wait the whole graceful limit: a minute here. A loaded machine
        // makes a clean one take seconds, never that long.
        try await ServerHarness.withServer(timeout: .seconds(90), configure: { $0.gracefulShutdownLimit = .seconds(60) }) { server async throws in
            let api = TestAPI(server)
            let (videoNo, _) = try await seededVideo(server)
            server.server.setFaults(FaultSettings(stallAfterBytes: 0))
            let stalled = await api.streamedByteCount(
                .POST, APIPath.download, body: try JSONEncoder().encode(["video_no": videoNo]), giveUpAfter: .milliseconds(500))
            #expect(stalled.error != nil && stalled.bytes == 0)
            stopped = clock.now
        }
        #expect(clock.now - stopped < .seconds(30))
    }

    @Test("Stats count requests per endpoint and downloads per video, and reset")
    func stats() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let (videoNo, size) = try await seededVideo(server)
            _ = try await api.download(videoNo)
            _ = try await api.download(videoNo)
            _ = try await api.list()
            let stats = try JSONDecoder().decode(ServerStats.self, from: try await api.withKey(nil).get("/_admin/stats").body)
            #expect(stats.downloads == [videoNo: 2])
            #expect(stats.requests(.download) == 2 && stats.requests(.listVideos) == 1)
            #expect(stats.bytesStreamed == Int64(2 * size))
            #expect(try await api.withKey(nil).send(.DELETE, "/_admin/stats").status == 200)
            #expect(server.server.stats() == ServerStats())
        }
    }
}
