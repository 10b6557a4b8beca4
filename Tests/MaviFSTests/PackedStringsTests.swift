import FUSE
import MaviAPI
import MaviLibrary
import Testing

@testable import MaviFS

@Suite("Packed names and folders")
struct PackedStringsTests {
    @Test("strings come back as they went in, and are found at their first place")
    func strings() {
        let strings = (0..<3_000).map { "clip \($0) 🎞.mp4" } + ["", "a", "a", String(repeating: "é", count: 200)]
        let packed = PackedStrings(strings)
        #expect(packed.count == strings.count)
        for (position, string) in strings.enumerated() {
            #expect(packed[position] == string)
            #expect(packed.firstPosition(of: string) == strings.firstIndex(of: string))
        }
        #expect(packed.firstPosition(of: "clip 3000 🎞.mp4") == nil)
        #expect(packed.string(at: strings.count) == nil && packed.string(at: -1) == nil)
        var registry = PackedStrings()
        #expect(registry.position(adding: "VI1") == 0)
        #expect(registry.position(adding: "VI2") == 1)
        #expect(registry.position(adding: "VI1") == 0, "a number registered again keeps its place")
        #expect(registry.count == 2)
    }

    @Test("a folder of videos shows each by name with its size and times; a deleted one is skipped but keeps the others' places")
    func folder() {
        let videos = (0..<10).map { (i: Int) -> Video in
            var video = Video(videoNo: "VI\(i)", videoName: "v\(i)", status: .parsed)
            video.size = Int64(100 + i)
            video.createTime = 1_000 * Int64(i)
            if i % 2 == 0 { video.datetimeTaken = 7_000 }
            return video
        }
        let table = VideoTable(videos)
        let rows = [8, 2, 5]
        var folder = Folder(names: PackedStrings(rows.map { "n\($0).mp4" }), inodes: [11, 12, 13], table: table, rows: rows)
        #expect(folder.count == 3)
        let item = folder.item(named: "n2.mp4")
        #expect(item?.inode == 12 && item?.size == 102 && item?.modified == Timestamp(milliseconds: 7_000))
        #expect(folder[2].modified == Timestamp(milliseconds: 5_000) && folder[2].changed == Timestamp(milliseconds: 5_000))
        #expect(folder.item(named: "n3.mp4") == nil)
        folder.remove(at: 1)
        #expect(folder.item(named: "n2.mp4") == nil && folder.isRemoved(1) && folder.count == 3)
        #expect(folder.position(named: "n2.mp4") == nil && folder.position(named: "n5.mp4") == 2 && folder.inode(at: 2) == 13)
        let newer = Folder(names: PackedStrings(["n8.mp4"]), inodes: [11], table: table, rows: [8])
        #expect(folder.namesGone(from: newer) == ["n5.mp4"], "a deleted name was dropped when it was deleted")
    }
}

@Suite("Packed names of a library")
struct PackedNamesTests {
    @Test("packed names are the names, with or without collisions")
    func sameAsNameList() {
        let plain = (0..<2_000).map { Video(videoNo: "VI\($0)", videoName: "clip \($0)", status: .parsed) }
        var colliding = plain
        colliding[1_500].videoName = "clip 7"
        colliding.append(Video(videoNo: "VI7x", videoName: "clip 7 (VI7)", status: .parsed, blob: "a.mp4"))
        for videos in [plain, colliding, []] {
            let packed = FileNaming.packedNames(for: videos)
            #expect((0..<packed.count).map { packed[$0] } == FileNaming.nameList(for: videos))
        }
    }
}

@Suite("Packed names of a library that shares names")
struct SharedNamesTests {
    @Test("videos sharing a name are told apart by number, as the careful naming does; the rest keep theirs")
    func shared() {
        var videos = (0..<3_000).map { Video(videoNo: "VI\($0)", videoName: "IMG_\($0 % 1_000).MOV", status: .parsed, blob: "x.mov") }
        videos.append(Video(videoNo: "VI-unique", videoName: "beach", status: .parsed))
        let packed = FileNaming.packedNames(for: videos)
        #expect((0..<packed.count).map { packed[$0] } == FileNaming.nameList(for: videos))
        #expect(packed[3_000] == "beach.mp4")
        #expect(!packed.hasDuplicates)
    }
}
