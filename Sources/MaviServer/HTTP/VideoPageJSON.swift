import MaviAPI
import NIOCore

/// Writes a `list_videos` reply straight into a buffer, in exactly the shape `Envelope<VideoPage>`
/// encodes to (see `Video.encode(to:)`): Foundation's `JSONEncoder` spent most of a 200-video
/// page's time walking containers. `VideoPageJSONTests` checks both agree field for field.
enum VideoPageJSON {
    static func envelope(_ page: VideoPage) -> ByteBuffer {
        var out = JSONOut(capacity: 512 + page.videos.count * 900)
        out.raw(#"{"code":"0000","msg":"success","data":{"current_page":"#)
        out.integer(Int64(page.currentPage))
        out.raw(#","page_size":"#)
        out.integer(Int64(page.pageSize))
        out.raw(#","total_count":""#)
        out.integer(page.totalCount)
        out.raw(#"","videos":["#)
        for (index, video) in page.videos.enumerated() {
            if index > 0 { out.raw(",") }
            write(video, to: &out)
        }
        out.raw(#"]},"success":true,"failed":false}"#)
        return out.buffer
    }

    static func write(_ v: Video, to out: inout JSONOut) {
        out.raw(#"{"video_no":"#)
        out.string(v.videoNo)
        out.raw(#","video_name":"#)
        out.string(v.videoName)
        if let duration = v.duration { out.raw(#","duration":"#); out.digitString(duration) }
        if let size = v.size { out.raw(#","size":"#); out.digitString(size) }
        out.raw(#","status":"#)
        out.string(v.status.wireValue)
        out.raw(#","cause":"#)
        out.string(v.cause ?? "null")
        if let createTime = v.createTime { out.raw(#","create_time":"#); out.digitString(createTime) }
        if let url = v.videoURL { out.raw(#","video_url":"#); out.string(url) }
        if let url = v.coverURL { out.raw(#","cover_url":"#); out.string(url) }
        out.raw(#","fps":"#)
        if let fps = v.fps { out.double(fps) } else { out.raw("null") }
        out.raw(#","width":"#)
        if let width = v.width { out.integer(Int64(width)) } else { out.raw("null") }
        out.raw(#","height":"#)
        if let height = v.height { out.integer(Int64(height)) } else { out.raw("null") }
        out.raw(#","resolution_label":"#)
        if let label = v.resolutionLabel { out.string(label) } else { out.raw("null") }
        if let taken = v.datetimeTaken { out.raw(#","datetime_taken":"#); out.digitString(taken) }
        if let camera = v.cameraModel { out.raw(#","camera_model":"#); out.string(camera) }
        if let latitude = v.latitude { out.raw(#","latitude":"#); out.double(latitude) }
        if let longitude = v.longitude { out.raw(#","longitude":"#); out.double(longitude) }
        out.raw(#","tags":["#)
        for (index, tag) in v.tags.enumerated() {
            if index > 0 { out.raw(",") }
            out.string(tag)
        }
        out.raw("]")
        if let bucket = v.bucket { out.raw(#","bucket":"#); out.string(bucket) }
        if let blob = v.blob { out.raw(#","blob":"#); out.string(blob) }
        out.raw("}")
    }
}

/// A minimal JSON writer: strings escaped as `JSONEncoder` does with `.withoutEscapingSlashes`.
struct JSONOut {
    private(set) var buffer: ByteBuffer

    init(capacity: Int) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    mutating func raw(_ text: StaticString) {
        buffer.writeStaticString(text)
    }

    mutating func integer(_ n: Int64) {
        buffer.writeString(String(n))
    }

    /// An integer as a JSON string of digits, as the live service sends them.
    mutating func digitString(_ n: Int64) {
        buffer.writeInteger(UInt8(ascii: "\""))
        buffer.writeString(String(n))
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    /// Integral values without a fraction (`25`, not `25.0`), like `JSONEncoder`.
    mutating func double(_ d: Double) {
        if d.isFinite, d.rounded() == d, abs(d) < 1e15 {
            buffer.writeString(String(Int64(d)))
        } else if d.isFinite {
            buffer.writeString(d.description)
        } else {
            buffer.writeStaticString("null")
        }
    }

    mutating func string(_ s: String) {
        buffer.writeInteger(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            var runStart = 0
            for (i, byte) in bytes.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                if runStart < i { buffer.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[runStart..<i]))) }
                switch byte {
                case UInt8(ascii: "\""): buffer.writeStaticString(#"\""#)
                case UInt8(ascii: "\\"): buffer.writeStaticString(#"\\"#)
                case 0x0A: buffer.writeStaticString(#"\n"#)
                case 0x0D: buffer.writeStaticString(#"\r"#)
                case 0x09: buffer.writeStaticString(#"\t"#)
                case 0x08: buffer.writeStaticString(#"\b"#)
                case 0x0C: buffer.writeStaticString(#"\f"#)
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    buffer.writeStaticString(#"\u00"#)
                    buffer.writeInteger(hex[Int(byte >> 4)])
                    buffer.writeInteger(hex[Int(byte & 0xF)])
                }
                runStart = i + 1
            }
            if runStart < bytes.count { buffer.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[runStart...]))) }
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }
}
