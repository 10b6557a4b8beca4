import Foundation
import MaviAPI
@testable import MaviClient
import NIOCore
import NIOHTTP1
import Synchronization
import Testing
import TestSupport

/// The reply interpreter turns anything a server sends (any status, headers and body, echoing the
/// key anywhere) into a payload or a typed error, and no error text carries the key or a piece of it.
@Suite("Reply interpreter under fuzzing")
struct ReplyFuzzTests {
    static let key = "sk-mavi-3f9c2a7e51d04b8c9e6a1f2d7c3b5a90e4d8c1b2"
    static let cases = Soak.scale(ci: 5_000, soak: 200_000)
    static let statuses: [UInt] = [200, 201, 204, 206, 301, 400, 401, 403, 404, 408, 409, 429, 500, 502, 503, 504, 599, 999]

    /// Any 12 bytes of the key's random part in `text`.
    static func holdsKeyPiece(_ text: String) -> Bool {
        let secret = Array(key.dropFirst("sk-mavi-".count))
        for start in 0...(secret.count - 12) where text.contains(String(secret[start..<start + 12])) { return true }
        return false
    }

    /// A hostile body: generated or mutated JSON, HTML or text, with the key dropped in somewhere.
    static func body(_ input: inout HostileInput) -> [UInt8] {
        var text: [UInt8]
        switch input.int(0..<4) {
        case 0: text = Array(input.envelope().utf8)
        case 1: text = input.mutate(Array(Fixtures.listPageStrings(page: 1, pageSize: 2, total: 2, videoNos: ["VI1", "VI2"]).utf8))
        case 2: text = Array("<html><body>\(String(repeating: "é", count: input.int(0..<400)))</body></html>".utf8)
        default: text = Array(input.jsonObject(depth: 2).utf8)
        }
        if input.chance(0.8) {
            // The key as a value, as a JSON key, or at any byte, also right at the snippet's cut.
            let at = input.chance(0.3) ? min(text.count, input.int(190..<210)) : (text.isEmpty ? 0 : input.int(0..<text.count))
            let piece = input.pick([key, "\"\(key)\":1,", "\"msg\":\"\(key)\",", " \(key) "])
            text.insert(contentsOf: Array(piece.utf8), at: at)
        }
        return text
    }

    @Test("any status, headers and body: a payload or a typed error, never the key")
    func interpreter() throws {
        let interpreter = ReplyInterpreter(endpoint: .listVideos, redactor: Redactor(key: try APIKey(Self.key)))
        var input = HostileInput(seed: 0x5EED_0003)
        var outcomes: [String: Int] = [:]
        for _ in 0..<Self.cases {
            let status = HTTPResponseStatus(statusCode: Int(input.pick(Self.statuses)))
            var headers = HTTPHeaders()
            if input.chance(0.3) { headers.add(name: "Retry-After", value: input.pick(["5", "-1", "99999999999999999999", Self.key, "soon"])) }
            let body = ByteBuffer(bytes: Self.body(&input))
            do {
                _ = try interpreter.payload(VideoPage.self, status: status, headers: headers, body: body)
                outcomes["payload", default: 0] += 1
            } catch {
                var dumped = ""
                dump(error, to: &dumped)
                for text in [String(describing: error), String(reflecting: error), dumped] {
                    #expect(!Self.holdsKeyPiece(text), "\(text.prefix(300))")
                }
                if let delay = error.retryAfter { #expect(delay >= .zero && delay <= .seconds(Int64.max / 2)) }
                outcomes[String(describing: error).split(separator: ":").dropFirst().first.map(String.init) ?? "?", default: 0] += 1
            }
            let refusal = interpreter.refusalInsteadOfBytes(status: status, headers: headers, body: body)
            #expect(!Self.holdsKeyPiece(String(describing: refusal)), "\(String(describing: refusal).prefix(300))")
        }
        reportFigure("reply fuzz", "\(Self.cases) replies: \(outcomes.values.reduce(0, +)) outcomes, \(outcomes["payload"] ?? 0) payloads")
        #expect((outcomes["payload"] ?? 0) > 0, "some hostile replies still decode, so both paths run")
    }

    @Test("a listing that claims an absurd count is refused at once; one that ends early ends early")
    func absurdCounts() async throws {
        let server = ReplayServer()
        let ids = (1...20).map { "VI\($0)" }
        server.on(APIPath.listVideos) { request, _ in
            let body = try JSONSerialization.jsonObject(with: request.bodyData) as? [String: Any]
            let page = body?["page"] as? Int ?? 1
            // Page 1 is full and claims a count; every later page is empty.
            let videos = page == 1 ? ids : []
            let claimed = Self.claim.withLock { $0 }
            let text = Fixtures.listPageStrings(page: page, pageSize: 20, total: 0, videoNos: videos)
                .replacingOccurrences(of: #""total_count":"0""#, with: #""total_count":"\#(claimed)""#)
            return Reply.json(text).response()
        }
        try await server.run { url in
            try await withTestClient(testConfiguration(url)) { client in
                Self.claim.withLock { $0 = "999999999999999" }
                let refused = await clientError { try await client.allVideos(size: 20) }
                if case .invalidResponse(_, let reason)? = refused { #expect(reason.contains("999999999999999")) } else {
                    Issue.record("expected an unreadable reply, got \(String(describing: refused))")
                }
                #expect(server.requests(to: APIPath.listVideos).count == 1, "nothing is paged through")

                Self.claim.withLock { $0 = "1000000" }
                let videos = try await client.allVideos(size: 20)
                #expect(videos.map(\.videoNo) == ids)
                let asked = server.requests(to: APIPath.listVideos).count - 1
                #expect(asked <= 1 + 5 + 1, "an empty page ends the listing (\(asked) requests)")
            }
        }
    }

    static let claim = Mutex("0")
}
