import MaviAPI
import MaviLibrary

/// File names for videos: `<video_name>.<ext>`, made safe for a directory entry and unique
/// across the library. The same video gets the same name in every view.
public enum FileNaming {
    /// Longest name a Linux directory entry may have, in bytes.
    public static let maxNameBytes = 255

    /// Names for `videos`, keyed by video_no. Videos whose safe names collide all get
    /// ` (<video_no>)` before the extension, so the result does not depend on listing order.
    /// A video listed twice keeps its first name.
    public static func names(for videos: [Video]) -> [String: String] {
        var seen = Set<String>()
        let unique = videos.filter { seen.insert($0.videoNo).inserted }
        return Dictionary(zip(unique.map(\.videoNo), nameList(for: unique)), uniquingKeysWith: { first, _ in first })
    }

    /// The names of `videos` (each listed once), in their order: as ``names(for:)``, without a
    /// table keyed by number. Hashed once per video in the common case: at 100,000 videos, the
    /// tables are most of the cost of naming a library.
    public static func nameList<Videos: RandomAccessCollection<Video>>(for videos: Videos) -> [String] where Videos.Index == Int {
        var parts: [(base: String, ext: String)] = []
        parts.reserveCapacity(videos.count)
        var names: [String] = []
        names.reserveCapacity(videos.count)
        var count: [String: Int] = [:]
        count.reserveCapacity(videos.count)
        var collisions = false
        for v in videos {
            let (base, ext) = (safeBase(v), fileExtension(v))
            let name = compose(base, ext, suffix: nil)
            parts.append((base, ext))
            names.append(name)
            if let before = count.updateValue(1, forKey: name) {
                count[name] = before + 1
                collisions = true
            }
        }
        // Without a shared name, names are unique already.
        guard collisions else { return names }
        for i in names.indices where count[names[i], default: 0] > 1 {
            names[i] = compose(parts[i].base, parts[i].ext, suffix: collisionSuffix(videos[videos.startIndex + i].videoNo))
        }
        // A suffixed name can meet a plain one (a video called "x (VI2)" beside two called "x",
        // one of them VI2): every video sharing such a name is told apart by a hash of its number.
        var byName: [String: [Int]] = [:]
        for (i, name) in names.enumerated() { byName[name, default: []].append(i) }
        for positions in byName.values where positions.count > 1 {
            for i in positions { names[i] = compose(parts[i].base, parts[i].ext, suffix: " (~\(stableHash(videos[videos.startIndex + i].videoNo)))") }
        }
        return names
    }

    /// ``nameList(for:)`` packed, made without holding every name as a string: each name is
    /// made, packed and let go, and the packed table's index finds those given twice, which alone
    /// are made again with their number. Only when a number-suffixed name meets another name is
    /// the library named the careful way, all names at once.
    public static func packedNames<Videos: RandomAccessCollection<Video>>(for videos: Videos) -> PackedStrings where Videos.Index == Int {
        var plain = PackedStrings()
        for video in videos { plain.append(compose(safeBase(video), fileExtension(video), suffix: nil)) }
        guard plain.hasDuplicates else {
            plain.fit()
            return plain
        }
        var shared = Set<Int>()
        for position in 0..<plain.count {
            if let first = plain.firstPosition(of: plain[position]), first != position { shared.formUnion([first, position]) }
        }
        var names = PackedStrings()
        for (position, video) in zip(0..<plain.count, videos) {
            names.append(shared.contains(position)
                ? compose(safeBase(video), fileExtension(video), suffix: collisionSuffix(video.videoNo)) : plain[position])
        }
        guard !names.hasDuplicates else { return PackedStrings(nameList(for: videos)) }
        names.fit()
        return names
    }

    /// The name in `by-id`: the video_no made safe, with the extension, within 255 bytes.
    public static func idName(_ video: Video) -> String {
        compose(safeComponent(video.videoNo), fileExtension(video), suffix: nil)
    }

    /// A directory named after a value (a tag, a camera model): made safe, within 255 bytes.
    public static func directoryName(_ value: String) -> String {
        let name = truncate(safeComponent(value), toBytes: maxNameBytes)
        return name == "." || name == ".." ? "_" + name : name
    }

    /// ` (<video_no>)`, which tells apart videos whose names are the same. A number too long to
    /// leave room for the name is cut and completed with a hash of the whole, so the suffix stays
    /// short and still differs between numbers.
    static func collisionSuffix(_ videoNo: String) -> String {
        let safe = safeComponent(videoNo)
        guard safe.utf8.count > 48 else { return " (\(safe))" }
        return " (\(truncate(safe, toBytes: 24))~\(stableHash(videoNo)))"
    }

    /// FNV-1a of the text in hex: the same in every run, unlike `Hasher`.
    static func stableHash(_ text: String) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return String(hash, radix: 16)
    }

    /// The extension of the stored file (from `blob`, else `video_url`) when it is a video type
    /// a file manager knows by name (``VideoTypes``), else `mp4`.
    public static func fileExtension(_ video: Video) -> String {
        for source in [video.blob, video.videoURL] {
            guard let s = source, let dot = s.lastIndex(of: "."), !s[dot...].contains("/") else { continue }
            let ext = s[s.index(after: dot)...].lowercased()
            if VideoTypes.mimeTypes[ext] != nil { return ext }
        }
        return VideoTypes.fallbackExtension
    }

    /// The video's name, made safe, without the extension it may already carry.
    static func safeBase(_ video: Video) -> String {
        let raw = video.videoName
        if raw.isEmpty || raw == "." || raw == ".." { return safeComponent(video.videoNo) }
        var base = safeComponent(raw)
        let ext = "." + fileExtension(video)
        if base.lowercased().hasSuffix(ext), base.count > ext.count {
            base = String(base.dropLast(ext.count))
        }
        if base.isEmpty || base == "." || base == ".." { base = safeComponent(video.videoNo) }
        return base
    }

    /// A string usable inside a directory entry: no `/`, no NUL or other control characters.
    /// Leading/trailing whitespace is kept as is; only bytes the kernel or tools choke on change.
    public static func safeComponent(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in s.unicodeScalars {
            switch scalar.value {
            case 0x2F: out.append("_")  // '/'
            case 0x00...0x1F, 0x7F: out.append("_")
            default: out.append(scalar)
            }
        }
        let result = String(out)
        return result == "." || result == ".." ? "_" + result : result
    }

    /// `base + suffix + "." + ext`, cutting `base` on a character boundary so the whole fits in
    /// 255 bytes.
    static func compose(_ base: String, _ ext: String, suffix: String?) -> String {
        let tail = (suffix ?? "") + "." + ext
        let budget = maxNameBytes - tail.utf8.count
        return truncate(base, toBytes: budget) + tail
    }

    /// The longest prefix of `s`, on a `Character` boundary, that fits in `bytes` UTF-8 bytes.
    static func truncate(_ s: String, toBytes bytes: Int) -> String {
        guard s.utf8.count > bytes else { return s }
        var result = ""
        var used = 0
        for ch in s {
            let n = ch.utf8.count
            if used + n > bytes { break }
            result.append(ch)
            used += n
        }
        return result
    }
}
