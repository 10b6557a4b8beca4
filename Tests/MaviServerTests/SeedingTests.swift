import Foundation
import MaviAPI
import Testing
import TestSupport

@Suite("Seeding a library for benchmarks")
struct SeedingTests {
    @Test("Seeded videos go to the namespace asked for, named by the prefix, listed in its file index, served by Range")
    func namespaceAndNames() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let source = directory.appending("source.mp4")
        try VideoFixtures.makeNonVideo(at: source, count: 300_000, seed: 7)
        let original = try Data(contentsOf: URL(fileURLWithPath: source))

        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let seeded = try await server.server.seedVideos(count: 3, namespace: "bench", sourceFile: source, namePrefix: "moov-end")
            let plain = try await server.server.seedVideos(count: 2)

            let bench = try #require(try await api.list(#"{"unique_id":"bench","size":10}"#).data)
            #expect(Set(bench.videos.map(\.videoName)) == ["moov-end-000000", "moov-end-000001", "moov-end-000002"])
            #expect(Set(bench.videos.map(\.videoNo)) == Set(seeded))
            #expect(bench.videos.allSatisfy { $0.size == Int64(original.count) })
            let other = try #require(try await api.list(#"{"size":10}"#).data)
            #expect(Set(other.videos.map(\.videoNo)) == Set(plain))
            #expect(other.videos.allSatisfy { $0.videoName.hasPrefix("synthetic-") })

            // The namespace's index lists exactly its own files, and each one serves the source's bytes.
            let open = api.withKey(nil)
            let namespaces = try JSONDecoder().decode([[String: String]].self, from: try await open.get("/_admin/namespaces").body)
            let filesURL = try #require(namespaces.first { $0["unique_id"] == "bench" }?["files_url"])
            let index = try await open.get(filesURL)
            let links = index.text.components(separatedBy: "<a href=\"").dropFirst().map { $0.prefix { $0 != "\"" } }
            #expect(Set(links.map(String.init)) == Set(seeded.map { "\($0).mp4" }))
            let ranged = try await open.get(filesURL + "\(seeded[1]).mp4", headers: [("Range", "bytes=1000-1999")])
            #expect(ranged.status == 206)
            #expect(ranged.body == original[1000..<2000])
        }
    }
}
