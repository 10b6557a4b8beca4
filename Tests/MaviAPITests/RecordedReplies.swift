/// Reply bodies as the documentation of the live service shows them (seeds 000–004 and
/// docs/api.md), byte for byte where the docs give them, plus the variants the docs say occur.
enum RecordedReplies {
    /// list_videos, first documented example: numbers as JSON numbers, capture metadata present
    /// on one video only, no `cause`, no `video_url`.
    static let listNumbers = """
    {
      "code": "0000",
      "msg": "success",
      "data": {
        "current_page": 1,
        "page_size": 20,
        "total_count": 2,
        "videos": [
          {
            "video_no": "VI606404158946574336",
            "video_name": "182082-867762198_tiny",
            "duration": 12,
            "size": 3284512,
            "status": "PARSE",
            "create_time": 1754037217992,
            "datetime_taken": 1729388400000,
            "camera_model": "Canon EOS 5D",
            "latitude": 39.9042,
            "longitude": 116.4074,
            "tags": ["holiday", "beijing", "api"],
            "bucket": "mavi-resource",
            "blob": "VI606404158946574336.mp4"
          },
          {
            "video_no": "VI606402870447996928",
            "video_name": "test_video_gz_visual_understanding_s36",
            "duration": 61,
            "size": 5324808,
            "status": "PARSE",
            "create_time": 1754036910783,
            "bucket": "mavi-resource",
            "blob": "VI606402870447996928.mp4"
          }
        ]
      },
      "success": true,
      "failed": false
    }
    """

    /// list_videos, second documented example: numbers as strings, `cause: "null"`, null fps,
    /// width, height and resolution label, CDN URLs.
    static let listStrings = """
    {
        "code": "0000",
        "msg": "success",
        "data": {
            "current_page": 1,
            "page_size": 20,
            "total_count": "2",
            "videos": [
                {
                    "video_no": "VI702915390254350336",
                    "video_name": "NkdWNOrQByo",
                    "duration": "105",
                    "size": "7798243",
                    "status": "PARSE",
                    "cause": "null",
                    "create_time": "1777047288621",
                    "video_url": "https://mavi-resource.openinterx.com/VI9aa17ce1-f278-42b0-aff8-9f7ae3a70775.mp4",
                    "cover_url": "https://mavi-resource.openinterx.com//VI9aa17ce1-f278-42b0-aff8-9f7ae3a70775/frame_0032.jpg",
                    "fps": null,
                    "width": null,
                    "height": null,
                    "resolution_label": null,
                    "tags": ["living_room", "couch", "cat", "kitchen", "pov_laundry", "api"],
                    "bucket": "mavi-resource",
                    "blob": "VI9aa17ce1-f278-42b0-aff8-9f7ae3a70775.mp4"
                }
            ]
        },
        "success": true,
        "failed": false
    }
    """

    /// delete_videos success as the endpoint page's header shows it (`data: {}`) …
    static let deleteSuccessEmptyObject = """
    {"code": "0000", "msg": "success", "data": {}, "success": true, "failed": false}
    """
    /// … and as its response example shows it (`data: null`).
    static let deleteSuccessNull = """
    {"code": "0000", "msg": "success", "data": null, "success": true, "failed": false}
    """
    static let deleteEmpty = """
    {"code":"0001","msg":"The video number list cannot be empty!","data":null,"success":false,"failed":true}
    """
    static let deleteTooMany = """
    {"code":"0001","msg":"The number of videos to delete cannot exceed 100!","data":null,"success":false,"failed":true}
    """
    /// The retired v1.0 delete: only code and msg.
    static let legacyDelete = """
    {"code": "0000", "msg": "success"}
    """

    static let downloadUnknown = """
    {"code": "0001", "msg": "download video error", "data": null, "success": false, "failed": true}
    """
    static let downloadMissingNo = """
    {"code": "0001", "msg": "The video number cannot be empty!", "data": null, "success": false, "failed": true}
    """

    static let upload = """
    {"code":"0000","msg":"success","data":{"videoNo":"VI625239098370850816","videoName":"holiday.mp4","videoStatus":"UNPARSE","uploadTime":"1744905509814"},"success":true,"failed":false}
    """

    static let metadata = """
    {"code":"0000","msg":"success","data":{"video_no":"VI1","video_name":"clip","duration":"30","size":"1024",
     "status":"PARSE","cause":"null","create_time":"1777047288621","fps":29.97,"width":1920,"height":1080,
     "resolution_label":"1080p","tags":[],"video_url":"https://cdn.example/VI1.mp4"},"success":true,"failed":false}
    """
    static let metadataUnknown = """
    {"code":"0000","msg":"success","data":null,"success":true,"failed":false}
    """

    static let rateLimited = """
    {"code":"0429","msg":"Request has exceeded the limit.","data":null,"success":false,"failed":true}
    """
    static let networkAbnormal = """
    {"code":"0001","msg":"network abnormal","data":null,"success":false,"failed":true}
    """
    static let unauthorized = """
    {"code":"0401","msg":"Authorization is invalid or missing.","data":null,"success":false,"failed":true}
    """

    static let infrastructure = """
    {"timestamp":"2025-04-17T12:00:00.000+00:00","path":"/serve/api/v1/list_videos","status":503,"error":"Service Unavailable","requestId":"a1b2c3"}
    """

    static let callback = """
    {"videoNo": "VI625239098370850816", "status": "PARSE"}
    """
}
