import Foundation
import MaviAPI
import Testing
import TestSupport

@Suite("Expect: 100-continue")
struct ExpectContinueTests {
    @Test("an upload that asks before sending its body gets 100 Continue at once, then its answer")
    func interimResponse() async throws {
        let source = try await SharedVideos.shared.mp4()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await ServerHarness.withServer { server async throws in
            // The key goes to curl in a private file, never on its command line.
            let headers = directory.appending("headers")
            guard FileManager.default.createFile(
                atPath: headers, contents: Data("Authorization: \(server.apiKey)\n".utf8), attributes: [.posixPermissions: 0o600])
            else { throw TestFailure("cannot write \(headers)") }
            let reply = directory.appending("reply.json")
            let received = directory.appending("received-headers")
            let started = ContinuousClock.now
            // Without an interim answer curl would wait the whole expect100 timeout before sending.
            let result = try await run([
                "curl", "-sS", "--expect100-timeout", "20", "-H", "@\(headers)", "-H", "Expect: 100-continue",
                "-F", "file=@\(source);type=video/mp4", "-F", "unique_id=curl", "-D", received, "-o", reply,
                server.baseURL + APIPath.upload,
            ], timeout: 40)
            let elapsed = ContinuousClock.now - started
            #expect(result.status == 0, "curl exited with \(result.status)")
            // Every response head curl received, the interim one included.
            let statusLines = try String(contentsOfFile: received, encoding: .utf8)
                .components(separatedBy: "\r\n").filter { $0.hasPrefix("HTTP/") }
            #expect(statusLines == ["HTTP/1.1 100 Continue", "HTTP/1.1 200 OK"])
            #expect(elapsed < .seconds(15))
            let envelope = try JSONDecoder().decode(Envelope<UploadReply>.self, from: Data(contentsOf: URL(fileURLWithPath: reply)))
            #expect(envelope.isSuccess && envelope.data?.videoStatus == .unparsed)
        }
    }
}
