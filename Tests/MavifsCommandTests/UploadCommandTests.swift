import Foundation
import MaviAPI
import MaviClient
import MaviServer
import Testing
import TestSupport

@Suite("mavifs upload, run as a command", .timeLimit(.minutes(1)))
struct UploadCommandTests {
    /// Runs `mavifs upload ARGS… --endpoint <server>` with `MAVI_API_KEY` set to `key` (empty: unset).
    private func upload(_ arguments: [String], server: RunningLibraryServer, key: String) async throws -> CommandResult {
        try await run(
            [try MavifsBinary.path(), "upload", "--endpoint", server.baseURL] + arguments,
            timeout: 60, environment: ["MAVI_API_KEY": key])
    }

    /// Milliseconds since the epoch of a `yyyy-MM-dd HH:mm:ss` time in UTC, as the server reads `--taken`.
    private static func utcMilliseconds(_ text: String) -> Int64? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = APILimits.uploadDateFormat
        return formatter.date(from: text).map { Int64($0.timeIntervalSince1970) * 1000 }
    }

    /// Neither output stream of a run holds `key`.
    private func expectNoKey(_ result: CommandResult, _ key: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!result.stdout.contains(key) && !result.stderr.contains(key), "the key was printed", sourceLocation: sourceLocation)
    }

    @Test("a file with tags, camera, capture time and place is listed with them once processed")
    func uploadWithFields() async throws {
        let file = try await VideoFixtures.sharedMP4()
        try await ServerHarness.withServer { server in
            let result = try await upload([
                file, "--namespace", "cli-space", "--tag", "holiday", "--tag", "harbour", "--camera", "Canon EOS 5D",
                "--taken", "2024-10-20 09:30:00", "--lat", "39.9042", "--lon", "116.4074",
            ], server: server, key: server.apiKey)
            #expect(result.status == 0, "stderr: \(result.stderr)")
            expectNoKey(result, server.apiKey)

            // One line per file: the new id, a tab, the path.
            let fields = result.stdout.trimmingCharacters(in: .newlines).components(separatedBy: "\t")
            #expect(fields.count == 2 && fields.last == file)
            let videoNo = try #require(fields.first)
            #expect(videoNo.hasPrefix("VI"))

            let configuration = ClientConfiguration(
                endpoint: URL(string: server.baseURL)!, namespace: "cli-space", apiKey: try APIKey(server.apiKey), pacing: .unlimited)
            let video = try await MaviClient.withClient(configuration: configuration) { client in
                try await ServerHarness.poll("\(videoNo) to be processed") { () -> Video? in
                    guard let video = try await client.getMetadata(videoNo: videoNo), video.status != .unparsed else { return nil }
                    return video
                }
            }
            #expect(video.status == .parsed)
            #expect(video.tags == ["holiday", "harbour", "api"])
            #expect(video.cameraModel == "Canon EOS 5D")
            #expect(video.datetimeTaken == Self.utcMilliseconds("2024-10-20 09:30:00"), "the capture time, read as UTC")
            #expect(video.latitude == 39.9042 && video.longitude == 116.4074)
        }
    }

    @Test("on a terminal, progress is redrawn on one line and ends with the new id; piped, it is silent")
    func progressOnTerminal() async throws {
        let file = try await VideoFixtures.sharedMP4()
        try await ServerHarness.withServer { server in
            // `script` gives the command a pseudo-terminal; the key reaches it through the environment.
            let command = [try MavifsBinary.path(), "upload", "--endpoint", server.baseURL, file]
                .map { "'" + $0.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }.joined(separator: " ")
            let result = try await run(["script", "-qec", command, "/dev/null"], timeout: 60, environment: ["MAVI_API_KEY": server.apiKey])
            #expect(result.status == 0)
            expectNoKey(result, server.apiKey)
            let name = URL(fileURLWithPath: file).lastPathComponent
            #expect(result.stdout.contains("\r\u{1B}[K\(name): 100%"), "the sending line is redrawn in place")
            #expect(result.stdout.contains("\(name): uploaded as VI"))

            let piped = try await upload([file], server: server, key: server.apiKey)
            #expect(piped.status == 0 && piped.stderr.isEmpty, "no progress noise in a pipe: \(piped.stderr)")
            expectNoKey(piped, server.apiKey)
        }
    }

    @Test("several files in one run, unpaced for a server without rate limits: one line each, in order")
    func severalFiles() async throws {
        let files = [try await VideoFixtures.sharedMP4(), try await VideoFixtures.sharedMP4(seconds: 2)]
        try await ServerHarness.withServer(rateLimits: false) { server in
            // Paced at the live service's one upload a minute, the second file would wait that long.
            let started = ContinuousClock.now
            let result = try await upload(files + ["--no-pacing", "--tag", "batch"], server: server, key: server.apiKey)
            #expect(result.status == 0, "stderr: \(result.stderr)")
            #expect(ContinuousClock.now - started < .seconds(50))
            let lines = result.stdout.split(separator: "\n").map { $0.components(separatedBy: "\t") }
            #expect(lines.map(\.last) == files)
            #expect(Set(lines.compactMap(\.first)).count == files.count)
            #expect(server.server.stats().requests(.upload) == files.count)
        }
    }

    @Test("a wrong key fails with the service's reason, sent once, and is never printed")
    func wrongKey() async throws {
        let file = try await VideoFixtures.sharedMP4()
        try await ServerHarness.withServer { server in
            let wrong = "sk-mavi-not-the-right-one-7d1e"
            let result = try await upload([file], server: server, key: wrong)
            #expect(result.status != 0 && result.stdout.isEmpty)
            #expect(result.stderr.contains("invalid or missing"), "stderr: \(result.stderr)")
            expectNoKey(result, wrong)
            #expect(server.server.stats().requests(.upload) == 1)
        }
    }

    @Test("--api-key-file is read when only its owner can read it, and refused otherwise")
    func keyFile() async throws {
        let file = try await VideoFixtures.sharedMP4()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await ServerHarness.withServer { server in
            let keyFile = directory.appending("api-key")
            try Data((server.apiKey + "\n").utf8).write(to: URL(fileURLWithPath: keyFile))

            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: keyFile)
            let refused = try await upload([file, "--api-key-file", keyFile], server: server, key: "")
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("chmod 600") && refused.stderr.contains(keyFile), "stderr: \(refused.stderr)")
            expectNoKey(refused, server.apiKey)
            #expect(server.server.stats().requests(.upload) == 0, "nothing was sent")

            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyFile)
            let accepted = try await upload([file, "--api-key-file", keyFile], server: server, key: "")
            #expect(accepted.status == 0, "stderr: \(accepted.stderr)")
            expectNoKey(accepted, server.apiKey)
            #expect(server.server.stats().requests(.upload) == 1)
        }
    }

    @Test("invalid arguments are refused before anything is sent", arguments: [
        ["--lat", "39.9"],
        ["--taken", "2024-10-20T09:30:00"],
        ["--tag", ""],
    ])
    func invalidArguments(extra: [String]) async throws {
        let file = try await VideoFixtures.sharedMP4()
        try await ServerHarness.withServer { server in
            let result = try await upload([file] + extra, server: server, key: server.apiKey)
            #expect(result.status != 0 && result.stdout.isEmpty)
            expectNoKey(result, server.apiKey)
            #expect(server.server.stats().requests(.upload) == 0)
        }
    }

    @Test("no key for a remote endpoint is an error that says how to give one")
    func missingKey() async throws {
        let file = try await VideoFixtures.sharedMP4()
        let result = try await run(
            [try MavifsBinary.path(), "upload", file, "--endpoint", "https://api.memories.ai.invalid"],
            timeout: 60, environment: ["MAVI_API_KEY": ""])
        #expect(result.status != 0)
        #expect(result.stderr.contains("MAVI_API_KEY") && result.stderr.contains("--api-key-file"), "stderr: \(result.stderr)")
    }
}
