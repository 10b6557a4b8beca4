import Foundation
import Glibc
import MaviServer
import TestSupport

/// A local server with videos of pseudo-random bytes, and a work folder for mount points, caches
/// and logs, for tests that run `mavifs mount` as a child process.
struct MountFixture: Sendable {
    struct Video: Sendable {
        let videoNo: String
        let source: [UInt8]
        var byID: String { "by-id/\(videoNo).mp4" }
    }

    let server: RunningLibraryServer
    let videos: [Video]
    let work: String
    let binary: String

    var environment: [String: String] {
        ["MAVI_API_KEY": server.apiKey, "PATH": "/usr/bin:/bin", "HOME": work, "XDG_STATE_HOME": work + "/state", "XDG_CACHE_HOME": work + "/xdg-cache"]
    }

    /// A new empty directory that other users may traverse to (for tests of access).
    func directory(_ name: String) throws -> String {
        let path = work + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, 0o755)
        return path
    }

    /// `mavifs mount -f` at `mountpoint`, returned once mounted (or failing with its stderr).
    func mount(
        _ mountpoint: String, cache: String, _ extra: [String] = [], environment: [String: String]? = nil, pacing: Bool = false
    ) async throws -> ChildProcess {
        let arguments = [binary, "mount", mountpoint, "-f", "--endpoint", server.baseURL, pacing ? "--pacing" : "--no-pacing", "--cache-dir", cache,
                         "--list-ttl", "60", "--read-timeout", "8", "--metadata-timeout", "4"] + extra
        let child = try ChildProcess(arguments, environment: environment ?? self.environment, directory: work)
        do {
            try await waitUntil("\(mountpoint) to be mounted", timeout: 60, interval: 0.05) {
                // Mounted, and answering: a stale mount left by a killed process is in the mount
                // table too, but fails with ENOTCONN; once the new process detaches it, the
                // directory beneath answers before the new mount is there.
                if mountOptions(of: mountpoint) != nil, try await blocking("statfs", timeout: 20, { mountAnswers(at: mountpoint) }) { return true }
                if let status = await child.wait(timeout: 0) { throw MountExited(status: status, stderr: child.stderr) }
                return false
            }
        } catch {
            let stderr = child.stderr
            await child.stop()
            forceUnmount(mountpoint)
            throw error is MountExited ? error : MountExited(status: -1, stderr: "\(error); its output: \(stderr)")
        }
        return child
    }

    /// Stops a mount child: SIGTERM, then SIGKILL; detaches anything left.
    func unmount(_ child: ChildProcess, _ mountpoint: String) async {
        child.signal(SIGTERM)
        if await child.wait(timeout: 20) == nil { await child.stop() }
        if mountOptions(of: mountpoint) != nil { forceUnmount(mountpoint) }
    }

    /// A server holding `videoCount` videos of `videoSize` bytes each (0: listed, with no file),
    /// with the documented rate limits on or off.
    static func with(
        videoCount: Int, videoSize: Int, rateLimits: Bool = false, configure: (inout ServerOptions) -> Void = { _ in },
        _ body: @Sendable (MountFixture) async throws -> Void
    ) async throws {
        let binary = try MavifsBinary.path()
        try await ServerHarness.withServer(rateLimits: rateLimits, configure: configure) { server in
            let work = try TemporaryDirectory(prefix: "mavifs-cmd")
            defer { work.remove() }
            chmod(work.path, 0o755)
            var videos: [Video] = []
            if videoSize == 0 {
                for no in try await server.server.seedVideos(count: videoCount) { videos.append(Video(videoNo: no, source: [])) }
            }
            for i in 0..<(videoSize == 0 ? 0 : videoCount) {
                let file = work.appending("source-\(i).mp4")
                try VideoFixtures.makeNonVideo(at: file, count: videoSize, seed: UInt64(100 + i))
                let no = try await server.server.seedVideos(count: 1, sourceFile: file)[0]
                videos.append(Video(videoNo: no, source: Array(try Data(contentsOf: URL(fileURLWithPath: file)))))
            }
            let fixture = MountFixture(server: server, videos: videos, work: work.path, binary: binary)
            do {
                try await body(fixture)
            } catch {
                server.server.setFaults(FaultSettings())
                throw error
            }
            server.server.setFaults(FaultSettings())
        }
    }
}

struct MountExited: Error, CustomStringConvertible {
    let status: Int32
    let stderr: String
    var description: String { "the mount exited with \(status): \(stderr)" }
}
