import MaviAPI
@testable import MaviFS
import Testing
import TestSupport

/// File and directory names made from hostile listings are always one safe directory entry:
/// 1 to 255 bytes, no `/`, NUL or control character, never `.` or `..`, unique per video and the
/// same whatever the listing order.
@Suite("File names under fuzzing")
struct NamingFuzzTests {
    static let cases = Soak.scale(ci: 400, soak: 20_000)

    static func isSafe(_ name: String) -> Bool {
        let bytes = name.utf8
        return (1...255).contains(bytes.count) && !bytes.contains(0x2F) && !name.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
            && name != "." && name != ".."
    }

    static func hostileString(_ input: inout HostileInput) -> String {
        if input.chance(0.5) { return input.pick(HostileInput.hostileStrings) }
        var scalars = String.UnicodeScalarView()
        for _ in 0..<input.int(0..<(input.chance(0.1) ? 3000 : 30)) {
            let value = input.chance(0.3) ? UInt32(input.int(0..<0x80)) : UInt32(input.int(0..<0x11_0000))
            if let s = Unicode.Scalar(value) { scalars.append(s) }
        }
        return String(scalars)
    }

    @Test("a suffixed name that meets a plain one: all of them still differ")
    func suffixMeetsPlainName() {
        let videos = [
            Video(videoNo: "VI1", videoName: "x (VI2)", status: .parsed), Video(videoNo: "VI2", videoName: "x", status: .parsed),
            Video(videoNo: "VI3", videoName: "x", status: .parsed),
        ]
        let names = FileNaming.names(for: videos)
        #expect(Set(names.values).count == 3, "\(names)")
        #expect(names == FileNaming.names(for: videos.reversed()))
        #expect(names["VI3"] == "x (VI3).mp4")
    }

    @Test("random libraries of hostile names, numbers and extensions")
    func names() {
        var input = HostileInput(seed: 0x5EED_0005)
        var named = 0
        for _ in 0..<Self.cases {
            var videos: [Video] = []
            for i in 0..<input.int(1..<40) {
                let no = input.chance(0.8) ? "VI\(input.int(0..<30))" : Self.hostileString(&input)
                guard !no.isEmpty else { continue }
                let blob = input.chance(0.5) ? Self.hostileString(&input) + "." + input.pick(["mp4", "MOV", "x/y", "", "toolongext", "mkv"]) : nil
                videos.append(Video(videoNo: no + (input.chance(0.5) ? "" : "-\(i)"), videoName: Self.hostileString(&input), status: .parsed, blob: blob))
            }
            let names = FileNaming.names(for: videos)
            let distinct = Set(videos.map(\.videoNo))
            #expect(Set(names.keys) == distinct)
            for (no, name) in names { #expect(Self.isSafe(name), "\(no.debugDescription) → \(name.debugDescription)") }
            #expect(Set(names.values).count == names.count, "unique names")
            var shuffled = videos
            shuffled.shuffle(using: &input.rng)
            // The first record of a number names it; a reordering keeps each number's first record.
            let firsts = videos.reduce(into: [String: Video]()) { if $0[$1.videoNo] == nil { $0[$1.videoNo] = $1 } }
            let reordered = FileNaming.names(for: Array(firsts.values).shuffled(using: &input.rng))
            #expect(reordered == names, "the same names whatever the order")
            for video in videos {
                #expect(Self.isSafe(FileNaming.idName(video)), "\(video.videoNo.debugDescription)")
                #expect(Self.isSafe(FileNaming.fileExtension(video)) && FileNaming.fileExtension(video).count <= 8)
            }
            for _ in 0..<5 {
                let dir = FileNaming.directoryName(Self.hostileString(&input))
                #expect(dir.isEmpty || Self.isSafe(dir), "\(dir.debugDescription)")
            }
            named += names.count
        }
        reportFigure("naming fuzz", "\(Self.cases) libraries, \(named) names checked")
    }
}
