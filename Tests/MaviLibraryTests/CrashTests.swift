import Foundation
import Glibc
import MaviAPI
@testable import MaviLibrary
import TestSupport
import Testing

/// The built `mavifs` next to the test bundle (`swift build` makes it; `swift test` alone may not).
enum MavifsBinary {
    static let path: String? = {
        let bundle = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).resolvingSymlinksInPath()
        let candidate = bundle.deletingLastPathComponent().appendingPathComponent("mavifs").path
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
    }()
}

/// A process killed in the middle of a download leaves a cache that the next one uses correctly.
@Suite("Crashes", .timeLimit(.minutes(5)))
struct CrashTests {
    @Test("SIGKILL mid-download, then a new reader gives the right bytes", .enabled(if: MavifsBinary.path != nil, "needs the built mavifs (swift build)"))
    func sigkillMidDownload() async throws {
        try await LibraryFixture.with(size: 4_000_000, rangeRequests: false) { fixture in
            let video = fixture.videos[0]
            // The download stops sending after 2.5 MB and holds the connection: the process is
            // surely in the middle of it when it dies.
            fixture.server.setFaults(.init(stallAfterBytes: 2_500_000, stallCount: 1, endpoints: [.download]))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try #require(MavifsBinary.path))
            process.arguments = [
                "cache", "warm", "--endpoint", fixture.running.baseURL, "--namespace", LibraryFixture.namespace,
                "--cache-dir", fixture.cacheDirectory, "--cache-block-size", "64K", "--cache-flush-interval", "0.2",
                "--video", video.videoNo,
            ]
            process.environment = ["MAVI_API_KEY": fixture.running.apiKey, "PATH": "/usr/bin:/bin"]
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let pid = process.processIdentifier
            var killed = false
            defer {
                if !killed { kill(pid, SIGKILL) }
            }
            try await waitUntil("a record naming blocks", timeout: 30) {
                let record = cacheRecordFiles(fixture.cacheDirectory).first.flatMap { CacheFiles.readRecord(at: $0) }
                return (record?.present.setCount ?? 0) >= 10
            }
            #expect(kill(pid, SIGKILL) == 0)
            killed = true
            try await blocking("the killed process to exit", timeout: 10) { process.waitUntilExit() }
            #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL)

            fixture.server.setFaults(.init())
            try await withReader(fixture.makeReader()) { reader in
                let loaded = reader.stats()
                #expect(loaded.bytesCached >= 10 * Int64(testBlockSize), "blocks the killed process completed are used")
                #expect(loaded.completeFiles == 0)
                let bytes = try await readSequentially(reader, video)
                #expect(bytes == fixture.source)
            }
            #expect(fixture.downloads(video) == 2)
        }
    }
}
