import Foundation
import MaviAPI
@testable import MaviClient
import Testing
import TestSupport

@Suite("Against mavifs serve: list filters", .timeLimit(.minutes(2)))
struct ListFilterTests {
    /// One filter, and which uploaded videos it must return.
    private struct Case {
        var label: String
        var filter: VideoFilter
        var matches: (UploadedVideo) -> Bool
    }

    private func cases(_ videos: [UploadedVideo]) -> [Case] {
        let beijing = GeoPoint(latitude: 39.9042, longitude: 116.4074)
        // About 33 km north of the Beijing point: outside every radius.
        let outskirts = GeoPoint(latitude: 40.2, longitude: 116.4074)
        let newest = videos.compactMap(\.spec.takenMilliseconds).max()!
        let oldest = videos.compactMap(\.spec.takenMilliseconds).min()!
        let first = videos[0], failed = videos.first { !$0.parsed }!
        func near(_ point: GeoPoint) -> (UploadedVideo) -> Bool {
            { $0.parsed && $0.spec.location.map { distanceMeters($0, point) <= APILimits.geoRadiusMeters } == true }
        }
        return [
            Case(label: "no filter", filter: VideoFilter()) { _ in true },
            Case(label: "status PARSE", filter: VideoFilter(status: .parsed)) { $0.parsed },
            Case(label: "status FAIL", filter: VideoFilter(status: .fail)) { !$0.parsed },
            Case(label: "status FAILED is sent as FAIL", filter: VideoFilter(status: .failed(spelling: "FAILED"))) { !$0.parsed },
            Case(label: "status UNPARSE", filter: VideoFilter(status: .unparsed)) { _ in false },
            Case(label: "tag holiday", filter: VideoFilter(tag: "holiday")) { $0.parsed && $0.spec.tags.contains("holiday") },
            Case(label: "tag api", filter: VideoFilter(tag: "api")) { $0.parsed },
            Case(label: "unknown tag", filter: VideoFilter(tag: "no-such-tag")) { _ in false },
            Case(label: "camera", filter: VideoFilter(cameraModel: "Canon EOS 5D")) { $0.parsed && $0.spec.camera == "Canon EOS 5D" },
            Case(label: "taken at or after the newest", filter: VideoFilter(takenAtOrAfter: newest)) {
                $0.parsed && ($0.spec.takenMilliseconds ?? .min) >= newest
            },
            Case(label: "taken at or after the oldest", filter: VideoFilter(takenAtOrAfter: oldest)) {
                $0.parsed && ($0.spec.takenMilliseconds ?? .min) >= oldest
            },
            Case(label: "near Beijing", filter: VideoFilter(near: beijing), matches: near(beijing)),
            Case(label: "outside every radius", filter: VideoFilter(near: outskirts), matches: near(outskirts)),
            Case(label: "video_name", filter: VideoFilter(videoName: first.spec.name)) { $0.spec.name == first.spec.name },
            Case(label: "video_no", filter: VideoFilter(videoNo: failed.videoNo)) { $0.videoNo == failed.videoNo },
            Case(label: "video_nos", filter: VideoFilter(videoNos: [first.videoNo, failed.videoNo, "VI404"])) {
                [first.videoNo, failed.videoNo].contains($0.videoNo)
            },
            Case(label: "video_nos and a metadata filter intersect", filter: VideoFilter(videoNos: [first.videoNo, failed.videoNo], tag: "holiday")) {
                $0.videoNo == first.videoNo
            },
            Case(label: "tag and camera", filter: VideoFilter(cameraModel: "Canon EOS 5D", tag: "beijing")) {
                $0.parsed && $0.spec.camera == "Canon EOS 5D" && $0.spec.tags.contains("beijing")
            },
        ]
    }

    @Test("every filter returns exactly the uploaded videos it should, with the fields they were uploaded with")
    func filters() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await withLiveLibrary { library in
            let videos = try await library.upload(UploadSpec.library, in: directory)
            let byNumber = Dictionary(uniqueKeysWithValues: videos.map { ($0.videoNo, $0) })

            for testCase in cases(videos) {
                let page = try await library.client.listVideos(filter: testCase.filter, size: 50)
                let expected = Set(videos.filter(testCase.matches).map(\.videoNo))
                #expect(Set(page.videos.map(\.videoNo)) == expected, "\(testCase.label)")
                #expect(page.totalCount == Int64(expected.count), "\(testCase.label): total_count")
            }

            // Judged locally from the full listing (what a mount shows when a filtered query is
            // late), every filter but `near` picks the same videos as the server.
            let listing = try await library.client.listVideos(size: 50).videos
            for testCase in cases(videos) {
                let served = Set(try await library.client.listVideos(filter: testCase.filter, size: 50).videos.map(\.videoNo))
                let judged = listing.map { testCase.filter.matchesLocally($0) }
                if testCase.filter.near != nil {
                    #expect(judged.allSatisfy { $0 == nil }, "\(testCase.label): cannot be told locally")
                } else {
                    #expect(Set(zip(listing, judged).filter { $0.1 == true }.map(\.0.videoNo)) == served, "\(testCase.label), judged locally")
                }
            }

            // What the listing says of each video is what was uploaded, read back through the client.
            let all = try await library.client.listVideos(size: 50).videos
            for video in all {
                let uploaded = try #require(byNumber[video.videoNo])
                let spec = uploaded.spec
                #expect(video.videoName == spec.name)
                #expect(video.size == Int64(try contents(of: uploaded.path).count))
                if uploaded.parsed {
                    #expect(video.status == .parsed && video.cause == nil)
                    #expect(video.tags == spec.parsedTags)
                    #expect(video.cameraModel == spec.camera)
                    #expect(video.datetimeTaken == spec.takenMilliseconds)
                    #expect(video.latitude == spec.location?.latitude && video.longitude == spec.location?.longitude)
                    #expect(video.videoURL != nil && video.coverURL != nil && video.blob != nil && video.bucket != nil)
                } else {
                    #expect(video.status.isFailed && video.cause != nil)
                    // Capture metadata exists only once a video is parsed.
                    #expect(video.tags.isEmpty && video.cameraModel == nil)
                }
            }
        }
    }

    @Test("a video still processing is UNPARSE, and no metadata filter sees it yet")
    func unparsed() async throws {
        try await withLiveLibrary(server: { $0.processingDelay = .seconds(300) }) { library in
            let spec = UploadSpec.library[0]
            let reply = try await library.client.upload(file: try await VideoFixtures.sharedMP4(), fields: spec.fields)
            #expect(reply.videoStatus == .unparsed && reply.videoName == spec.name)

            let metadata = try #require(try await library.client.getMetadata(videoNo: reply.videoNo))
            #expect(metadata.status == .unparsed && metadata.tags.isEmpty && metadata.width == nil)
            let unparsed = try await library.client.listVideos(filter: VideoFilter(status: .unparsed))
            #expect(unparsed.videos.map(\.videoNo) == [reply.videoNo])
            #expect(try await library.client.listVideos(filter: VideoFilter(status: .parsed)).videos.isEmpty)
            for filter in [
                VideoFilter(tag: spec.tags[0]), VideoFilter(cameraModel: spec.camera), VideoFilter(takenAtOrAfter: 0),
                VideoFilter(near: spec.location),
            ] {
                #expect(try await library.client.listVideos(filter: filter).videos.isEmpty, "\(filter)")
            }
        }
    }
}
