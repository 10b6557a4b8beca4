import MaviAPI
import Testing
@testable import MaviFS

@Suite("File names for videos")
struct FileNamingTests {
    func video(_ no: String, _ name: String, blob: String? = nil) -> Video {
        Video(videoNo: no, videoName: name, status: .parsed, blob: blob)
    }

    @Test("name plus the stored file's extension, mp4 when unknown")
    func extensions() {
        let names = FileNaming.names(for: [
            video("VI1", "beach", blob: "VI1.MOV"), video("VI2", "city"), video("VI3", "clip.mp4", blob: "x/VI3.mp4"),
            video("VI4", "odd", blob: "VI4.not-an-ext!"),
        ])
        #expect(names["VI1"] == "beach.mov")
        #expect(names["VI2"] == "city.mp4")
        #expect(names["VI3"] == "clip.mp4")
        #expect(names["VI4"] == "odd.mp4")
    }

    @Test("shared names get the video number, whatever the order")
    func collisions() {
        let a = video("VI10", "same"), b = video("VI20", "same"), c = video("VI30", "other")
        let one = FileNaming.names(for: [a, b, c])
        let two = FileNaming.names(for: [c, b, a])
        #expect(one == two)
        #expect(one["VI10"] == "same (VI10).mp4")
        #expect(one["VI20"] == "same (VI20).mp4")
        #expect(one["VI30"] == "other.mp4")
        #expect(Set(one.values).count == 3)
    }

    @Test("slashes, NUL, control characters, dot names and empty names are made safe")
    func oddNames() {
        let names = FileNaming.names(for: [
            video("VI1", "a/b/../c"), video("VI2", "nul\u{0}here\ttab"), video("VI3", "."), video("VI4", ".."), video("VI5", ""),
        ])
        #expect(names["VI1"] == "a_b_.._c.mp4")
        #expect(names["VI2"] == "nul_here_tab.mp4")
        #expect(names["VI3"] == "VI3.mp4")
        #expect(names["VI4"] == "VI4.mp4")
        #expect(names["VI5"] == "VI5.mp4")
        for name in names.values {
            #expect(!name.contains("/"))
            #expect(!name.unicodeScalars.contains { $0.value < 0x20 })
        }
    }

    @Test("long names are cut to 255 bytes on a character boundary, keeping the suffix")
    func longNames() {
        let long = String(repeating: "é", count: 300)  // 600 bytes
        let names = FileNaming.names(for: [video("VI1", long), video("VI2", long), video("VI3", String(repeating: "x", count: 10_000))])
        for (no, name) in names {
            #expect(name.utf8.count <= 255, "\(no)")
            #expect(name.hasSuffix(".mp4"))
        }
        #expect(names["VI1"]!.hasSuffix(" (VI1).mp4"))
        #expect(names["VI1"]!.dropLast(" (VI1).mp4".count).allSatisfy { $0 == "é" })
        #expect(names["VI3"]!.utf8.count == 255)
    }

    @Test("unicode names are kept as they are")
    func unicode() {
        #expect(FileNaming.names(for: [video("VI1", "海边 🌊 día")])["VI1"] == "海边 🌊 día.mp4")
    }
}
