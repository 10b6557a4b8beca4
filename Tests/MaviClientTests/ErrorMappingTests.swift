import Foundation
import Hummingbird
import MaviAPI
@testable import MaviClient
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Errors", .timeLimit(.minutes(1)))
struct ErrorMappingTests {
    /// The error one list request fails with when the server always answers `reply`.
    private func listError(_ reply: Reply, retry: RetryPolicy = .never) async throws -> (MaviClientError?, Int) {
        let server = ReplayServer()
        server.on(APIPath.listVideos, replies: [reply])
        let error = try await server.run { url in
            try await withTestClient(testConfiguration(url, retry: retry)) { client in
                await clientError { try await client.listVideos() }
            }
        }
        return (error, server.requests.count)
    }

    @Test("each documented code has its case and errno, and is not retried", arguments: [
        ("0001", "The video number list cannot be empty!", EINVAL),
        ("0003", "param error", EINVAL),
        ("0401", APIMessage.unauthorized, EACCES),
        ("0402", "Insufficient points", EIO),
        ("0403", "Account disabled", EACCES),
        ("0409", "Duplicate request", EIO),
        ("9009", "Permission denied", EACCES),
        ("7777", "Something new", EIO),
    ])
    func businessCodes(code: String, message: String, errno: Int32) async throws {
        let (error, requests) = try await listError(.envelope(code, message), retry: fastRetry)
        let failure = try #require(error?.apiFailure)
        #expect(failure == APIFailure(endpoint: .listVideos, code: code, message: message))
        switch (code, error) {
        case ("0001", .invalidParameter?), ("0003", .invalidParameter?), ("0401", .unauthorized?),
             ("0402", .insufficientBalance?), ("0403", .accountDisabled?), ("0409", .duplicateRequest?),
             ("9009", .permissionDenied?), ("7777", .unknownCode?):
            break
        default:
            Issue.record("code \(code) mapped to \(String(describing: error))")
        }
        #expect(error?.suggestedErrno == errno)
        #expect(error?.isTransient == false)
        #expect(requests == 1, "never retried")
        #expect(error?.description.contains("list_videos") == true, "the error names the endpoint")
    }

    @Test("0429 and \"network abnormal\" are transient")
    func transientCodes() async throws {
        let (limited, _) = try await listError(.envelope("0429", APIMessage.rateLimited))
        guard case .rateLimited(let failure)? = limited else { Issue.record("got \(String(describing: limited))"); return }
        #expect(failure.message == APIMessage.rateLimited && limited?.isTransient == true)

        let (abnormal, _) = try await listError(.envelope("0001", "network abnormal"))
        guard case .networkAbnormal? = abnormal else { Issue.record("got \(String(describing: abnormal))"); return }
        #expect(abnormal?.isTransient == true)
    }

    @Test("HTTP 401 without an envelope is unauthorized")
    func http401() async throws {
        let (error, requests) = try await listError(.json(#"{"timestamp":"t","path":"/x","status":401,"error":"Unauthorized","requestId":"r1"}"#, status: .unauthorized), retry: fastRetry)
        guard case .unauthorized(let failure)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(failure.code == "HTTP 401" && failure.message == "Unauthorized")
        #expect(error?.suggestedErrno == EACCES && requests == 1)
    }

    @Test("HTTP 200 with 0401 and HTTP 401 with 0401 are the same error")
    func envelope401() async throws {
        let (error, _) = try await listError(.envelope("0401", APIMessage.unauthorized, status: .unauthorized))
        guard case .unauthorized(let failure)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(failure.code == "0401")
    }

    @Test("an infrastructure error keeps its body; 404 suggests ENOENT")
    func infrastructure404() async throws {
        let (error, requests) = try await listError(.json(Fixtures.notFoundInfrastructure, status: .notFound), retry: fastRetry)
        guard case .httpStatus(let failure)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(failure.status == 404 && failure.infrastructure?.requestId == "req-404" && failure.infrastructure?.error == "Not Found")
        #expect(error?.suggestedErrno == ENOENT && error?.isTransient == false && requests == 1)
    }

    @Test("an HTML error page is an HTTP error with the page's start")
    func htmlPage() async throws {
        let (error, _) = try await listError(.html(Fixtures.badGatewayPage, status: .badGateway))
        guard case .httpStatus(let failure)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(failure.status == 502 && failure.infrastructure == nil)
        #expect(failure.bodySnippet?.contains("502 Bad Gateway") == true)
        #expect(error?.isTransient == true && error?.suggestedErrno == EIO)
    }

    @Test("unreadable replies are typed errors naming the endpoint", arguments: [
        Reply.json(#"{"code":"0000","msg":"success","data":{"videos":"#),
        Reply.html("<html>maintenance</html>", status: .ok),
        Reply.json(#"{"code":"0000","msg":"success","data":{"videos":[{"video_name":"no id"}]}}"#),
        Reply.json(#"["not","an","envelope"]"#),
        Reply(status: .ok, headers: [:], body: .init()),
    ])
    func unreadableReplies(reply: Reply) async throws {
        let (error, _) = try await listError(reply)
        guard case .invalidResponse(let endpoint, let reason)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(endpoint == .listVideos && !reason.isEmpty)
        #expect(error?.description.hasPrefix("list_videos:") == true)
    }

    @Test("a server echoing the key back does not put it in the error")
    func echoedKey() async throws {
        let server = ReplayServer()
        server.on(APIPath.listVideos) { request, _ in
            Reply.envelope("0001", "bad header \(request.authorization ?? "")").response()
        }
        let error = try await server.run { url in
            try await withTestClient(testConfiguration(url)) { client in
                await clientError { try await client.listVideos() }
            }
        }
        #expect(error?.apiFailure?.message == "bad header <redacted>")
    }

    @Test("errno suggestions for failures without a server")
    func errnoWithoutServer() {
        #expect(MaviClientError.timeout(endpoint: .download, .idleRead).suggestedErrno == ETIMEDOUT)
        #expect(MaviClientError.cancelled.suggestedErrno == EINTR)
        #expect(MaviClientError.invalidRequest(endpoint: .upload, reason: "x").suggestedErrno == EINVAL)
        #expect(MaviClientError.streamCut(endpoint: .download, received: 1, expected: 2, reason: "x").suggestedErrno == EIO)
        #expect(MaviClientError.jsonInsteadOfBytes(APIFailure(endpoint: .download, code: "0001", message: APIMessage.downloadFailed)).suggestedErrno == ENOENT)
        #expect(MaviClientError.jsonInsteadOfBytes(APIFailure(endpoint: .download, code: "0001", message: "other")).suggestedErrno == EIO)
    }

    @Test("\"network abnormal\" is recognised loosely, other 0001 messages are not")
    func networkAbnormalMatching() {
        for message in ["network abnormal", "Network abnormal.", " network abnormal "] {
            guard case .networkAbnormal? = MaviClientError.fromEnvelope(code: "0001", message: message, endpoint: .listVideos) else {
                Issue.record("\(message) not recognised"); continue
            }
        }
        guard case .invalidParameter? = MaviClientError.fromEnvelope(code: "0001", message: "network is fine", endpoint: .listVideos) else {
            Issue.record("wrongly recognised"); return
        }
        #expect(MaviClientError.fromEnvelope(code: "0000", message: "success", endpoint: .listVideos) == nil)
    }
}
