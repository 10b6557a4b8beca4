import Foundation
import MaviAPI
import Testing
import TestSupport

@Suite("list_videos")
struct ListVideosTests {
    @Test("Every filter, against uploaded and processed videos")
    func filtersOnUploads() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let mp4 = try await SharedVideos.shared.mp4()
            // Beijing, then a point ~11 km away, then Paris.
            let a = try await api.uploadOK(file: mp4, fileName: "alpha.mp4", fields: [
                ("tags", "holiday"), ("camera_model", "Canon EOS 5D"), ("datetime_taken", "2024-10-20 02:20:00"),
                ("latitude", "39.9042"), ("longitude", "116.4074"),
            ])
            let b = try await api.uploadOK(file: mp4, fileName: "beta.mp4", fields: [
                ("tags", "holiday"), ("tags", "city"), ("camera_model", "iPhone 15 Pro"), ("datetime_taken", "2025-01-01 00:00:00"),
                ("latitude", "40.0042"), ("longitude", "116.4074"),
            ])
            let c = try await api.uploadOK(file: mp4, fileName: "gamma.mp4", fields: [
                ("tags", "city"), ("camera_model", "Canon EOS 5D"), ("datetime_taken", "2023-05-05 12:00:00"),
                ("latitude", "48.8566"), ("longitude", "2.3522"),
            ])
            for no in [a, b, c] { _ = try await api.waitUntilProcessed(no) }

            func names(_ body: String) async throws -> Set<String> {
                let page = try await api.list(body)
                #expect(page.isSuccess, "\(body): \(page.msg)")
                return Set(page.data?.videos.map(\.videoName) ?? [])
            }
            #expect(try await names("{}") == ["alpha", "beta", "gamma"])
            #expect(try await names(#"{"video_name":"beta"}"#) == ["beta"])
            #expect(try await names(#"{"video_name":"bet"}"#) == [])
            #expect(try await names(#"{"video_no":"\#(c)"}"#) == ["gamma"])
            #expect(try await names(#"{"video_nos":["\#(a)","\#(c)","VI0"]}"#) == ["alpha", "gamma"])
            #expect(try await names(#"{"status":"PARSE"}"#) == ["alpha", "beta", "gamma"])
            #expect(try await names(#"{"status":"UNPARSE"}"#) == [])
            #expect(try await names(#"{"camera_model":"Canon EOS 5D"}"#) == ["alpha", "gamma"])
            #expect(try await names(#"{"tag":"holiday"}"#) == ["alpha", "beta"])
            #expect(try await names(#"{"tag":"api"}"#) == ["alpha", "beta", "gamma"])
            #expect(try await names(#"{"tag":"holi"}"#) == [])
            #expect(try await names(#"{"datetime_taken":1729390800000}"#) == ["alpha", "beta"])
            #expect(try await names(#"{"datetime_taken":"1729390800001"}"#) == ["beta"])
            #expect(try await names(#"{"latitude":39.9042,"longitude":116.4074}"#) == ["alpha", "beta"])
            #expect(try await names(#"{"latitude":39.75,"longitude":116.4074}"#) == ["alpha"])
            #expect(try await names(#"{"latitude":48.85,"longitude":2.35}"#) == ["gamma"])
            // Filters combine with AND.
            #expect(try await names(#"{"tag":"city","camera_model":"Canon EOS 5D"}"#) == ["gamma"])
            #expect(try await names(#"{"video_nos":["\#(a)","\#(b)"],"tag":"city"}"#) == ["beta"])
        }
    }

    @Test("Metadata filters match parsed videos only")
    func metadataFiltersNeedParsedVideos() async throws {
        try await ServerHarness.withServer(configure: { $0.processingDelay = .seconds(30) }) { server async throws in
            let api = TestAPI(server)
            let pending = try await api.uploadOK(file: try await SharedVideos.shared.mp4(), fields: [
                ("tags", "holiday"), ("camera_model", "Canon EOS 5D"),
            ])
            #expect(try await api.list(#"{"video_no":"\#(pending)"}"#).data?.totalCount == 1)
            #expect(try await api.list(#"{"status":"UNPARSE"}"#).data?.totalCount == 1)
            #expect(try await api.list(#"{"tag":"holiday"}"#).data?.totalCount == 0)
            #expect(try await api.list(#"{"camera_model":"Canon EOS 5D"}"#).data?.totalCount == 0)
        }
    }

    @Test("Wire shape: numbers as strings, cause \"null\", URLs pointing at this server")
    func wireShape() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let videoNo = try await api.uploadOK(file: try await SharedVideos.shared.mp4(), fields: [("datetime_taken", "2024-10-20 02:20:00")])
            _ = try await api.waitUntilProcessed(videoNo)
            let raw = try await api.post(APIPath.listVideos, json: #"{"page":1,"size":20}"#).json()
            #expect(raw["code"] as? String == "0000")
            #expect(raw["msg"] as? String == "success")
            #expect(raw["success"] as? Bool == true && raw["failed"] as? Bool == false)
            let data = try #require(raw["data"] as? [String: Any])
            #expect(data["total_count"] as? String == "1")
            #expect(data["current_page"] as? Int == 1)
            #expect(data["page_size"] as? Int == 20)
            let video = try #require((data["videos"] as? [[String: Any]])?.first)
            for key in ["duration", "size", "create_time", "datetime_taken"] {
                let text = video[key] as? String
                #expect(text != nil && Int64(text!) != nil, "\(key) should be a string of digits")
            }
            #expect(video["cause"] as? String == "null")
            #expect(video["width"] as? Int == 160 && video["height"] as? Int == 120)
            #expect(video["fps"] as? Double == 25)
            #expect((video["video_url"] as? String)?.hasPrefix(server.baseURL + "/files/") == true)
            #expect((video["cover_url"] as? String)?.hasPrefix(server.baseURL + "/covers/") == true)
            #expect(video["bucket"] as? String == "mavi-resource")
            #expect(video["blob"] as? String == "\(videoNo).mp4")
        }
    }

    @Test("Pagination: total_count, echoes, page arithmetic, newest first")
    func pagination() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let seeded = try await server.server.seedVideos(count: 23)
            let newestFirst = Array(seeded.reversed())
            var collected: [String] = []
            for page in 1...5 {
                let data = try #require(try await api.list(#"{"page":\#(page),"size":5}"#).data)
                #expect(data.totalCount == 23)
                #expect(data.currentPage == page && data.pageSize == 5)
                #expect(data.videos.count == (page < 5 ? 5 : 3))
                collected += data.videos.map(\.videoNo)
            }
            #expect(collected == newestFirst)
            let beyond = try #require(try await api.list(#"{"page":6,"size":5}"#).data)
            #expect(beyond.videos.isEmpty && beyond.totalCount == 23)
            let defaults = try #require(try await api.list("").data)
            #expect(defaults.currentPage == 1 && defaults.pageSize == 200 && defaults.videos.count == 23)
            let huge = try #require(try await api.list(#"{"page":2147483647,"size":2147483647}"#).data)
            #expect(huge.videos.isEmpty)
        }
    }

    @Test("Validation errors: page, size, unique_id, status spelling, latitude without longitude, bad JSON")
    func validation() async throws {
        try await ServerHarness.withServer { server async throws in
            let api = TestAPI(server)
            let cases: [(String, String?)] = [
                (#"{"page":0}"#, nil), (#"{"page":-1}"#, nil), (#"{"size":0}"#, nil),
                (#"{"unique_id":""}"#, nil),
                (#"{"status":"FAILED"}"#, "[UNPARSE, PARSE, FAIL]"),
                (#"{"latitude":39.9}"#, APIMessage.latLonTogether),
                (#"{"longitude":116.4}"#, APIMessage.latLonTogether),
                (#"{"page":"one"}"#, "JSON parse error"),
                (#"{"page":1"#, "JSON parse error"),
                (#"[1,2]"#, "JSON parse error"),
            ]
            for (body, message) in cases {
                let reply = try await api.post(APIPath.listVideos, json: body)
                let envelope = try reply.envelope()
                #expect(reply.status == 200)
                #expect(envelope.code == APICode.invalidParameter.rawValue, "\(body)")
                #expect(envelope.data == nil && envelope.failed)
                if let message { #expect(envelope.msg.contains(message), "\(body): \(envelope.msg)") }
            }
            // Digit strings are read as numbers, as Jackson does.
            #expect(try await api.list(#"{"page":"1","size":"10"}"#).data?.pageSize == 10)
        }
    }
}
