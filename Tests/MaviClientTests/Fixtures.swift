import MaviAPI

/// Reply bodies written from the service's documentation (seeds 000–004, docs/api.md).
enum Fixtures {
    static let testKey = "sk-mavi-TESTKEY-0123456789abcdef"

    /// list_videos with numbers as strings, `cause: "null"` and null resolution fields.
    static func listPageStrings(page: Int, pageSize: Int, total: Int, videoNos: [String]) -> String {
        let items = videoNos.map { no in
            """
            {"video_no":"\(no)","video_name":"name-\(no)","duration":"105","size":"7798243","status":"PARSE",
             "cause":"null","create_time":"1777047288621","video_url":"https://mavi-resource.openinterx.com/\(no).mp4",
             "cover_url":"https://mavi-resource.openinterx.com//\(no)/frame_0032.jpg","fps":null,"width":null,
             "height":null,"resolution_label":null,"tags":["cat","api"],"bucket":"mavi-resource","blob":"\(no).mp4"}
            """
        }
        return """
        {"code":"0000","msg":"success","data":{"current_page":\(page),"page_size":\(pageSize),"total_count":"\(total)",
        "videos":[\(items.joined(separator: ","))]},"success":true,"failed":false}
        """
    }

    /// list_videos with numbers as JSON numbers and capture metadata, one FAILED video.
    static let listNumbers = """
    {"code":"0000","msg":"success","data":{"current_page":1,"page_size":20,"total_count":2,"videos":[
      {"video_no":"VI606404158946574336","video_name":"182082-867762198_tiny","duration":12,"size":3284512,
       "status":"PARSE","create_time":1754037217992,"datetime_taken":1729388400000,"camera_model":"Canon EOS 5D",
       "latitude":39.9042,"longitude":116.4074,"tags":["holiday","beijing","api"],"bucket":"mavi-resource",
       "blob":"VI606404158946574336.mp4"},
      {"video_no":"VI606402870447996928","video_name":"test_video_gz_visual_understanding_s36","duration":61,
       "size":5324808,"status":"FAILED","cause":"decode error","create_time":1754036910783}
    ]},"success":true,"failed":false}
    """

    static let metadata = """
    {"code":"0000","msg":"success","data":{"video_no":"VI1","video_name":"clip","duration":"30","size":"1024",
     "status":"PARSE","cause":"null","create_time":"1777047288621","fps":29.97,"width":1920,"height":1080,
     "resolution_label":"1080p","tags":[]},"success":true,"failed":false}
    """

    static let upload = """
    {"code":"0000","msg":"success","data":{"videoNo":"VI625239098370850816","videoName":"clip.mp4","videoStatus":"UNPARSE","uploadTime":"1744905509814"},"success":true,"failed":false}
    """

    static let deleteOK = #"{"code":"0000","msg":"success","data":null,"success":true,"failed":false}"#

    static let notFoundInfrastructure = """
    {"timestamp":"2025-04-17T12:00:00.000+00:00","path":"/nowhere","status":404,"error":"Not Found","requestId":"req-404"}
    """

    static let serviceUnavailable = """
    {"timestamp":"2025-04-17T12:00:00.000+00:00","path":"/serve/api/v1/list_videos","status":503,"error":"Service Unavailable","requestId":"req-503"}
    """

    static let badGatewayPage = """
    <html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>
    """

    /// Deterministic pseudo-random bytes, so that a corrupted or reordered stream is noticed.
    static func bytes(count: Int, seed: UInt64 = 42) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }
}
