import Foundation
import MaviAPI
import MaviServer
import NIOHTTP1
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The first IPv4 address of this machine that is not loopback, if it has one.
private func nonLoopbackIPv4() -> String? {
    var list: UnsafeMutablePointer<ifaddrs>?
    guard getifaddrs(&list) == 0, let first = list else { return nil }
    defer { freeifaddrs(list) }
    for entry in sequence(first: first, next: { $0.pointee.ifa_next }) {
        guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET),
              entry.pointee.ifa_flags & UInt32(IFF_UP) != 0 else { continue }
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        let ok = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
            var inAddress = pointer.pointee.sin_addr
            return inet_ntop(AF_INET, &inAddress, &text, socklen_t(text.count)) != nil
        }
        let ip = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if ok, !ip.hasPrefix("127.") { return ip }
    }
    return nil
}

@Suite("Admin routes answer loopback peers only")
struct AdminAccessTests {
    @Test("from a non-loopback address the admin routes are 404 and change nothing; the API still answers",
          .enabled(if: nonLoopbackIPv4() != nil, "this machine has no non-loopback IPv4 address"))
    func nonLoopbackPeer() async throws {
        let ip = try #require(nonLoopbackIPv4())
        try await ServerHarness.withServer(configure: { $0.host = "0.0.0.0" }) { server async throws in
            let remote = TestAPI(base: "http://\(ip):\(server.port)", key: server.apiKey)
            let local = TestAPI(server)

            let routes: [(HTTPMethod, String)] = [(.GET, "/_admin/stats"), (.DELETE, "/_admin/stats"), (.GET, "/_admin/faults"), (.GET, "/_admin/namespaces")]
            for (method, path) in routes {
                let reply = try await remote.send(method, path)
                #expect(reply.status == 404, "\(method) \(path)")
            }
            let set = try await remote.send(.POST, "/_admin/faults", body: Data(#"{"http_503":5}"#.utf8))
            #expect(set.status == 404)
            #expect(server.server.faults.isEmpty, "a remote peer cannot inject faults")

            #expect(try await remote.list().isSuccess, "the API itself is not limited to loopback")
            #expect(try await local.get("/_admin/stats").status == 200)
            #expect(server.server.stats().requests(.listVideos) == 1)
        }
    }
}
