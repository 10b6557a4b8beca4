import MaviAPI
import Testing

@testable import MaviLibrary

@Suite("Packed listings")
struct VideoTableTests {
    /// Every field set, every optional field absent, and texts that are empty, long or unusual.
    static let unusual: [Video] = {
        var full = Video(
            videoNo: "VI568102998803353600", videoName: "Strand: dog 🐕 on the beach.mov", duration: 61, size: 123_456_789,
            status: .failed(spelling: "Fail-Weird"), cause: "decoder said no", createTime: 1_700_000_000_123,
            datetimeTaken: -5, cameraModel: "Canon EOS R5", latitude: -33.8568, longitude: 151.2153,
            tags: ["beach", "", "a:b", "7:colon", "ünïcode"], videoURL: "https://cdn.example/v/VI5681.mov?sig=a%2Fb",
            coverURL: "https://cdn.example/c/1.jpg", bucket: "b", blob: "VI5681.mov", fps: 29.97, width: 3840, height: 2160,
            resolutionLabel: "4K")
        full.size = Int64.max
        let bare = Video(videoNo: "x", videoName: "", status: .unparsed)
        var empties = Video(videoNo: "VI-empty", videoName: "e", status: .parsed)
        empties.cause = ""
        empties.cameraModel = ""
        empties.videoURL = ""
        empties.size = 0
        empties.width = 0
        empties.latitude = 0
        return [full, bare, empties, Video(videoNo: String(repeating: "9", count: 300), videoName: "long", status: .parsed)]
    }()

    @Test("videos come back field for field: absent stays absent, empty stays empty")
    func roundTrip() {
        let table = VideoTable(Self.unusual)
        #expect(Array(table) == Self.unusual)
        #expect(table.count == 4)
        for (position, video) in Self.unusual.enumerated() {
            #expect(table.videoNo(at: position) == video.videoNo)
            #expect(table.size(at: position) == video.size)
            #expect(table.tags(at: position) == video.tags)
            #expect(table.cameraModel(at: position) == video.cameraModel)
            #expect(table.hasCover(at: position) == (video.coverURL != nil))
            #expect(table.displayTime(at: position) == (video.datetimeTaken ?? video.createTime))
            #expect(table.isProcessing(at: position) == (video.status == .unparsed))
        }
        #expect(VideoTable().isEmpty)
    }

    @Test("a video is found by its number; one listed twice is found at its first place")
    func positions() {
        let videos = ListingStoreTests.videos(5_000)
        let table = VideoTable(videos)
        for (position, video) in videos.enumerated() { #expect(table.position(of: video.videoNo) == position) }
        #expect(table.position(of: "VI5000") == nil)
        #expect(table.position(of: "") == nil)
        #expect(!table.hasDuplicates)
        let twice = VideoTable(videos.prefix(3) + [videos[1]])
        #expect(twice.hasDuplicates)
        #expect(twice.position(of: videos[1].videoNo) == 1)
    }

    @Test("removing, keeping and updating copy the rest as it was")
    func changes() {
        let videos = ListingStoreTests.videos(50)
        let table = VideoTable(videos)
        #expect(table.removing(["VI3", "VI40", "missing"]) == videos.filter { !["VI3", "VI40"].contains($0.videoNo) })
        #expect(table.removing(["missing"]).isSameStorage(as: table), "nothing to remove: the same table")
        let many = Set(videos.map(\.videoNo).filter { $0.hasSuffix("7") || $0.hasSuffix("2") })
        #expect(table.removing(many) == videos.filter { !many.contains($0.videoNo) })
        #expect(table.keeping { $0 % 2 == 0 } == videos.enumerated().filter { $0.offset % 2 == 0 }.map(\.element))
        var newer = videos[5]
        newer.status = .parsed
        newer.videoName = "renamed, and longer than it was"
        var expected = videos
        expected[5] = newer
        expected.remove(at: 9)
        expected.remove(at: 0)
        let updated = table.updating([5: newer], dropping: [0, 9])
        #expect(updated == expected)
        #expect(updated.position(of: "VI5") == 4)
        #expect(updated.position(of: "VI9") == nil)
        let twice = VideoTable(videos.prefix(3) + [videos[1]])
        #expect(twice.removing(["VI1"]) == Array(videos.prefix(3)).filter { $0.videoNo != "VI1" }, "every place of a number listed twice")
    }

    @Test("equal videos are equal tables; any change of a field is not")
    func equality() {
        let videos = ListingStoreTests.videos(20)
        #expect(VideoTable(videos) == VideoTable(videos))
        var changed = videos
        changed[19].tags.append("new")
        #expect(VideoTable(videos) != VideoTable(changed))
        changed = videos
        changed[0].cause = ""
        #expect(VideoTable(videos) != VideoTable(changed), "an empty text is not an absent one")
        var builder = VideoTable.Builder()
        builder.append(rows: 0..<10, of: VideoTable(videos))
        builder.append(contentsOf: videos[10...])
        #expect(builder.build() == VideoTable(videos), "copied rows pack as appended ones")
        #expect(builder.contains("VI3") && builder.contains("VI19") && !builder.contains("VI20"))
    }
}

@Suite("Stored tag lists")
struct TagListTests {
    @Test("a list is well formed exactly when it decodes")
    func wellFormed() {
        let lists = [
            "", "5:beach", "0:", "5:beach3:dog", "2:é", "1:é", "3:é", "4:ab", "x:ab", ":", "5beach", "-1:", "2:ab2",
            TagList.encode(["ünïcode", "", "a:b", "🐕"]),
        ]
        for text in lists {
            #expect(TagList.isWellFormed(text) == (TagList.decode(text) != nil), "\(text)")
        }
        #expect(TagList.decode(TagList.encode(["ünïcode", "", "a:b", "🐕"])) == ["ünïcode", "", "a:b", "🐕"])
    }
}
