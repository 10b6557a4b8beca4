import ArgumentParser
import Foundation
import Logging
import MaviAPI
import MaviClient
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct UploadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload",
        abstract: "Upload video files to a library.",
        discussion: """
            Prints the new video's id and the file's path, tab-separated, for each file uploaded.
            The live service accepts one upload per minute: further files wait their turn.
            """
    )

    @OptionGroup var client: ClientOptions
    @OptionGroup var config: ConfigOption

    @Argument(help: ArgumentHelp("Video files: .mp4, .avi, .mkv or .mov, at most 3 GB each.", valueName: "file"))
    var files: [String]

    @Option(name: .customLong("tag"), help: ArgumentHelp("A tag for the videos; repeat for more (at most 20).", valueName: "tag"))
    var tags: [String] = []

    @Option(name: .customLong("camera"), help: ArgumentHelp("Camera model.", valueName: "model"))
    var cameraModel: String?

    @Option(help: ArgumentHelp("Capture time, as \"yyyy-MM-dd HH:mm:ss\".", valueName: "time"))
    var taken: String?

    @Option(name: .customLong("lat"), help: ArgumentHelp("Latitude of the capture place (with --lon).", valueName: "degrees"))
    var latitude: Double?

    @Option(name: .customLong("lon"), help: ArgumentHelp("Longitude of the capture place (with --lat).", valueName: "degrees"))
    var longitude: Double?

    @Option(help: ArgumentHelp("URL the service calls when processing ends.", valueName: "url"))
    var callback: String?

    var fields: UploadFields {
        UploadFields(
            tags: tags, cameraModel: cameraModel, takenAt: taken,
            location: latitude.flatMap { lat in longitude.map { GeoPoint(latitude: lat, longitude: $0) } },
            callback: callback
        )
    }

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name at least one file to upload") }
        guard (latitude == nil) == (longitude == nil) else { throw ValidationError("--lat and --lon go together") }
        if let taken, !UploadFields.isValidTakenAt(taken) {
            throw ValidationError("--taken must look like \"2024-10-20 09:30:00\"")
        }
        guard tags.count <= APILimits.maxUploadTags else { throw ValidationError("at most \(APILimits.maxUploadTags) tags") }
    }

    func run() async throws {
        let configuration = try client.makeConfiguration(config: config.load().settings(forMountpoint: nil))
        var logger = Logger(label: "mavifs.upload") { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = .warning
        let fields = fields
        var failures = 0
        try await MaviClient.withClient(configuration: configuration, logger: logger) { client in
            for file in files {
                let display = ProgressDisplay(name: URL(fileURLWithPath: file).lastPathComponent)
                do {
                    let reply = try await client.upload(file: file, fields: fields) { display.show($0) }
                    display.finish("uploaded as \(reply.videoNo)")
                    print("\(reply.videoNo)\t\(file)")
                } catch {
                    failures += 1
                    display.finish("failed: \(error)")
                    if !display.isTerminal { FileHandle.standardError.write(Data("\(file): \(error)\n".utf8)) }
                }
            }
        }
        if failures > 0 { throw ExitCode.failure }
    }
}

/// One line of upload progress on standard error, redrawn in place when it is a terminal (at
/// most ten times a second) and silent otherwise, so that logs and pipes get no noise.
private final class ProgressDisplay: Sendable {
    let name: String
    let isTerminal = isatty(STDERR_FILENO) == 1
    private let state = Mutex(State())

    private struct State {
        var lastDraw: ContinuousClock.Instant?
        var sendingSince: ContinuousClock.Instant?
    }

    init(name: String) {
        self.name = name
    }

    func show(_ progress: UploadProgress) {
        guard isTerminal else { return }
        let now = ContinuousClock.now
        let text: String? = state.withLock { state in
            var force = true
            var line: String
            switch progress {
            case .waitingForRateLimit(let wait):
                line = "waiting \(Int(Self.seconds(wait).rounded(.up)))s for the upload rate limit"
            case .sending(let sent, let total):
                if state.sendingSince == nil || sent == 0 { state.sendingSince = now }
                let seconds = Self.seconds(now - state.sendingSince!)
                let rate = seconds > 0.5 ? " \(Self.bytes(Int64(Double(sent) / seconds)))/s" : ""
                let percent = total > 0 ? Int(sent * 100 / total) : 100
                line = "\(percent)% \(Self.bytes(sent)) of \(Self.bytes(total))\(rate)"
                force = sent == total
            case .awaitingReply:
                line = "sent, waiting for the server"
            case .retrying(let attempt, let delay, let reason):
                line = "attempt \(attempt) failed (\(reason)); retrying in \(Int(Self.seconds(delay).rounded(.up)))s"
            }
            if !force, let last = state.lastDraw, now - last < .milliseconds(100) { return nil }
            state.lastDraw = now
            return line
        }
        if let text { draw("\(name): \(text)", newline: false) }
    }

    func finish(_ text: String) {
        guard isTerminal else { return }
        draw("\(name): \(text)", newline: true)
    }

    private func draw(_ line: String, newline: Bool) {
        // Carriage return and "erase line" redraw in place.
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)\(newline ? "\n" : "")".utf8))
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }

    static func bytes(_ count: Int64) -> String {
        ByteCountFormatter.string(fromByteCount: count, countStyle: .file)
    }
}
