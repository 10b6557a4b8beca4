import Foundation
import MaviAPI
import NIOCore
import Testing
@testable import MaviServer

@Suite("The list_videos writer matches the wire model's encoding")
struct VideoPageJSONTests {
    static let videos: [Video] = [
        Video(videoNo: "VI1", videoName: "plain", status: .unparsed),
        Video(
            videoNo: "VI606404158946574336", videoName: #"quotes " and \ backslash / slash"#, duration: 105, size: 7_798_243,
            status: .parsed, createTime: 1_777_047_288_621, datetimeTaken: 1_729_388_400_000, cameraModel: "Canon EOS 5D",
            latitude: 39.9042, longitude: -116.4074, tags: ["living_room", "été", "🐈", "api"],
            videoURL: "http://127.0.0.1:8080/files/abc/VI606404158946574336.mp4",
            coverURL: "http://127.0.0.1:8080/covers/abc/VI606404158946574336.jpg", bucket: "mavi-resource",
            blob: "VI606404158946574336.mp4", fps: 29.97, width: 1920, height: 1080, resolutionLabel: "1080p"),
        Video(videoNo: "VI2", videoName: "control\n\t\u{01}chars", status: .fail, cause: "The file is not a playable video.",
              fps: 25, width: 0, height: 0),
        Video(videoNo: "VI3", videoName: "", status: .parsed, latitude: 0, longitude: 180, tags: [], fps: 0.001),
    ]

    @Test("Same JSON, field for field, and it decodes back to the same page")
    func sameJSON() throws {
        let page = VideoPage(currentPage: 3, pageSize: 20, totalCount: 12_345, videos: Self.videos)
        let reference = try JSONEncoder().encode(Envelope<VideoPage>.ok(page))
        let fast = Data(VideoPageJSON.envelope(page).readableBytesView)
        let a = try JSONSerialization.jsonObject(with: reference) as? NSDictionary
        let b = try JSONSerialization.jsonObject(with: fast) as? NSDictionary
        #expect(a != nil && a == b)
        let decoded = try JSONDecoder().decode(Envelope<VideoPage>.self, from: fast)
        #expect(decoded.data == page)
        #expect(decoded.isSuccess)
    }

    @Test("An empty page")
    func emptyPage() throws {
        let page = VideoPage(currentPage: 1, pageSize: 200, totalCount: 0, videos: [])
        let fast = Data(VideoPageJSON.envelope(page).readableBytesView)
        let raw = try #require(try JSONSerialization.jsonObject(with: fast) as? [String: Any])
        let data = try #require(raw["data"] as? [String: Any])
        #expect(data["total_count"] as? String == "0")
        #expect((data["videos"] as? [Any])?.isEmpty == true)
    }
}
