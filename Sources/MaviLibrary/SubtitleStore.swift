import Foundation
import Logging
import MaviAPI
import MaviClient
import Synchronization

/// Where transcripts and captions come from. `MaviClient` is the real one.
public protocol TranscriptSource: Sendable {
    func audioTranscription(videoNo: String) async throws -> Transcript?
    func videoCaption(videoNo: String) async throws -> Transcript?
}

extension MaviClient: TranscriptSource {}

/// The two subtitle sidecars a processed video can have.
public enum SubtitleKind: String, Sendable, Hashable, CaseIterable {
    /// `NAME.srt`: speech, from `get_audio_transcription`.
    case speech
    /// `NAME.captions.srt`: visual captions, from `get_video_caption`.
    case captions

    /// What follows the video's name without its extension.
    public var fileSuffix: String {
        switch self {
        case .speech: ".srt"
        case .captions: ".captions.srt"
        }
    }
}

/// What is known of one sidecar without asking the server.
public enum SubtitleState: Sendable, Equatable {
    /// Never fetched.
    case unknown
    /// The server said the video has none.
    case absent
    /// On disk, this many bytes of SRT.
    case present(Int)
}

/// Subtitle sidecars as SRT files in the cache folder, each fetched once: a transcript of a
/// processed video does not change. A video without one leaves an empty `.none` marker, so that a
/// later mount knows it too, for ``absenceTrustedFor``. Files are written under a temporary name and renamed, so one on disk
/// is always whole; concurrent askers of one sidecar share its fetch.
public final class SubtitleStore: Sendable {
    /// How long "no transcript" is believed across mounts: the service gives the same answer for
    /// a video whose transcript is not made yet.
    static let absenceTrustedFor: Double = 24 * 3600

    private struct Key: Hashable {
        var videoNo: String
        var kind: SubtitleKind
    }

    private let directory: String
    private let source: any TranscriptSource
    private let logger: Logger
    private let states = Mutex<[Key: SubtitleState]>([:])
    private let fetches = Mutex<[Key: Task<SubtitleState, any Error>]>([:])
    private let observer = Mutex<Observer?>(nil)

    /// Reads what earlier mounts stored (one walk of the folder, so that listing a folder of
    /// videos never looks at the disk per video).
    public init(directory: String, source: any TranscriptSource, logger: Logger = Logger(label: "mavifs.subtitles")) {
        self.directory = directory
        self.source = source
        self.logger = logger
        var found: [Key: SubtitleState] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            for kind in SubtitleKind.allCases {
                if name.hasSuffix(kind.fileSuffix + ".none"), let no = Self.videoNo(String(name.dropLast(kind.fileSuffix.count + 5))) {
                    // The service answers "none" for a transcript not made yet as well: a marker
                    // is trusted for a day, then asked again (and removed).
                    var st = stat()
                    let path = directory + "/" + name
                    guard stat(path, &st) == 0, Date().timeIntervalSince1970 - Double(st.st_mtim.tv_sec) < Self.absenceTrustedFor else {
                        unlink(path)
                        continue
                    }
                    found[Key(videoNo: no, kind: kind)] = .absent
                } else if name.hasSuffix(kind.fileSuffix), let no = Self.videoNo(String(name.dropLast(kind.fileSuffix.count))),
                          kind == .captions || !name.hasSuffix(SubtitleKind.captions.fileSuffix) {
                    var st = stat()
                    if stat(directory + "/" + name, &st) == 0 { found[Key(videoNo: no, kind: kind)] = .present(Int(st.st_size)) }
                }
            }
        }
        states.withLock { $0 = found }
    }

    /// Where a namespace's sidecars live inside a cache directory (namespace percent-encoded).
    public static func directory(cache: String, namespace: String) -> String {
        let safe = namespace.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "default"
        return cache + "/subtitles/" + (safe.isEmpty ? "default" : safe)
    }

    /// What is known, with no call and no disk access.
    public func state(videoNo: String, kind: SubtitleKind) -> SubtitleState {
        states.withLock { $0[Key(videoNo: videoNo, kind: kind)] } ?? .unknown
    }

    /// Told of a sidecar's state once it is known.
    public typealias Observer = @Sendable (_ videoNo: String, _ kind: SubtitleKind, _ state: SubtitleState) -> Void

    /// Tells `observer` everything known now, then each state as it is learned (a state, once
    /// known, does not change), so that it can keep what it needs in its own terms. There is one
    /// observer: a second replaces the first.
    public func observe(_ observer: @escaping Observer) {
        let known = states.withLock { states in
            self.observer.withLock { $0 = observer }
            return states.map { ($0.key, $0.value) }
        }
        for (key, state) in known { observer(key.videoNo, key.kind, state) }
    }

    /// Fetches the sidecar unless known; returns what is known then.
    public func fetch(videoNo: String, kind: SubtitleKind) async throws -> SubtitleState {
        let key = Key(videoNo: videoNo, kind: kind)
        let known = state(videoNo: videoNo, kind: kind)
        guard known == .unknown else { return known }
        guard let path = path(videoNo: videoNo, kind: kind) else { throw SubtitleError.unsafeVideoNumber(videoNo) }
        let task = fetches.withLock { running -> Task<SubtitleState, any Error> in
            if let existing = running[key] { return existing }
            let task = Task { try await self.download(key, to: path) }
            running[key] = task
            return task
        }
        return try await task.value
    }

    /// Bytes of a stored sidecar.
    public func read(videoNo: String, kind: SubtitleKind, offset: UInt64, size: Int) throws -> [UInt8] {
        guard let path = path(videoNo: videoNo, kind: kind), let handle = FileHandle(forReadingAtPath: path) else {
            throw SubtitleError.notStored(videoNo)
        }
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        return Array(try handle.read(upToCount: size) ?? Data())
    }

    private func download(_ key: Key, to path: String) async throws -> SubtitleState {
        defer { _ = fetches.withLock { $0.removeValue(forKey: key) } }
        let transcript = switch key.kind {
        case .speech: try await source.audioTranscription(videoNo: key.videoNo)
        case .captions: try await source.videoCaption(videoNo: key.videoNo)
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let state: SubtitleState
        if let transcript, !transcript.segments.isEmpty {
            let bytes = Data(SubRip.format(transcript.segments).utf8)
            let temporary = path + ".tmp-\(UUID().uuidString.prefix(8))"
            try bytes.write(to: URL(fileURLWithPath: temporary))
            if rename(temporary, path) != 0 {
                try? FileManager.default.removeItem(atPath: temporary)
                throw SubtitleError.cannotStore(path)
            }
            state = .present(bytes.count)
        } else {
            _ = FileManager.default.createFile(atPath: path + ".none", contents: nil)
            state = .absent
        }
        states.withLock { $0[key] = state }
        observer.withLock { $0 }?(key.videoNo, key.kind, state)
        return state
    }

    private func path(videoNo: String, kind: SubtitleKind) -> String? {
        guard Self.videoNo(videoNo) != nil else { return nil }
        return directory + "/" + videoNo + kind.fileSuffix
    }

    /// A video number usable as a file name: no `/`, no dot first, not empty, at most 200 bytes.
    private static func videoNo(_ text: String) -> String? {
        guard !text.isEmpty, !text.hasPrefix("."), !text.contains("/"), !text.contains("\0"), text.utf8.count <= 200 else { return nil }
        return text
    }
}

public enum SubtitleError: Error, CustomStringConvertible {
    case unsafeVideoNumber(String)
    case notStored(String)
    case cannotStore(String)

    public var description: String {
        switch self {
        case .unsafeVideoNumber(let no): "the video number \(no) cannot name a file"
        case .notStored(let no): "no subtitles of \(no) are stored"
        case .cannotStore(let path): "cannot store \(path)"
        }
    }
}
