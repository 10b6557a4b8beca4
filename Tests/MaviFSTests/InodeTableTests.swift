import FUSE
import MaviLibrary
import Testing
import Thumbnails

@testable import MaviFS

@Suite("Inode numbers")
struct InodeTableTests {
    @Test("a video keeps its inode, its cover is its own, and every inode leads back to what it numbers")
    func numbering() {
        let table = InodeTable()
        let numbers = (0..<5_000).map { "VI\(568_102_998_803_353_600 + $0)" } + ["", "ü", String(repeating: "9", count: 400)]
        let inodes = table.inodes(forVideos: numbers)
        #expect(Set(inodes).count == numbers.count)
        // Registered again, in another order and one by one, after the index grew many times.
        for (number, inode) in zip(numbers, inodes).reversed() {
            #expect(table.inode(forVideo: number) == inode)
            guard case .video(let back) = table.node(inode) else {
                Issue.record("inode \(inode) is not a video")
                continue
            }
            #expect(back == number)
            let cover = table.inode(forCover: number)
            #expect(cover != inode && !inodes.contains(cover))
            guard case .cover(let coverOf) = table.node(cover) else {
                Issue.record("inode \(cover) is not a cover")
                continue
            }
            #expect(coverOf == number)
            let speech = table.inode(forSubtitle: .speech, of: number), captions = table.inode(forSubtitle: .captions, of: number)
            #expect(Set([inode, cover, speech, captions]).count == 4)
            #expect(table.node(speech) == .subtitle(number, .speech) && table.node(captions) == .subtitle(number, .captions))
        }
        let tag = table.inode(for: .tag("beach"))
        #expect(table.inode(for: .root) == rootInode)
        #expect(table.inode(for: .tag("beach")) == tag)
        #expect(!inodes.contains(tag) && table.inode(for: .all) != tag)
        guard case .directory(let view) = table.node(tag) else {
            Issue.record("inode \(tag) is not a directory")
            return
        }
        #expect(view == .tag("beach"))
    }

    @Test("an inode the mount never gave is nobody's")
    func unknown() {
        let table = InodeTable()
        _ = table.inodes(forVideos: ["VI1", "VI2"])
        // 6: a directory never seen; 12…15: the inodes of a third video, never registered.
        for inode: Inode in [0, 6, 5 * 2 + 2, 5 * 2 + 3, 5 * 2 + 4, 5 * 2 + 5, 1 << 40, 1 << 60, (1 << 60) + 1, .max, .max - 1, .max - 2, .max - 3, .max - 4] {
            #expect(table.node(inode) == nil, "inode \(inode)")
        }
    }

    @Test("a shared thumbnail's inode is its own per video, size and kind of name, and leads back to them")
    func sharedThumbnails() {
        let table = InodeTable()
        let video = table.inode(forVideo: "VI1")
        let normal = InodeTable.SharedThumbnail(videoNo: "VI1", size: .normal, namedByID: false)
        let large = InodeTable.SharedThumbnail(videoNo: "VI1", size: .large, namedByID: false)
        let byID = InodeTable.SharedThumbnail(videoNo: "VI1", size: .normal, namedByID: true)
        let inodes = [normal, large, byID].map(table.inode(forSharedThumbnail:))
        #expect(Set(inodes).count == 3 && !inodes.contains(video))
        #expect(table.inode(forSharedThumbnail: normal) == inodes[0])
        #expect(table.node(inodes[1]) == .sharedThumbnail(large))
        #expect(table.node(inodes[2] + 1) == nil)
    }
}
