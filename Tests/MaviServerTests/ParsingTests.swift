import Foundation
import Testing
@testable import MaviServer

@Suite("Header, range and form parsing")
struct ParsingTests {
    @Test("Range headers", arguments: [
        ("bytes=0-99", ByteRangeRequest.partial(0..<100)),
        ("bytes=10-", .partial(10..<1000)),
        ("bytes=-100", .partial(900..<1000)),
        ("bytes=-5000", .partial(0..<1000)),
        ("bytes=990-2000", .partial(990..<1000)),
        ("bytes=1000-", .unsatisfiable),
        ("bytes=1000-1001", .unsatisfiable),
        ("bytes=-0", .unsatisfiable),
        ("bytes=5-1", .whole),
        ("bytes=0-1,5-6", .whole),
        ("items=0-1", .whole),
        ("bytes=a-b", .whole),
    ])
    func ranges(header: String, expected: ByteRangeRequest) {
        #expect(ByteRangeRequest(header: header, fileSize: 1000) == expected)
    }

    @Test("No Range header means the whole file")
    func noRange() {
        #expect(ByteRangeRequest(header: nil, fileSize: 10) == .whole)
    }

    @Test("Header parameters: quoted, escaped, RFC 5987")
    func headerParameters() {
        let plain = HeaderParameters(#"form-data; name="file"; filename="a; b.mp4""#)
        #expect(plain.value == "form-data")
        #expect(plain.parameters == ["name": "file", "filename": "a; b.mp4"])
        let extended = HeaderParameters(#"form-data; name="file"; filename="x.mp4"; filename*=UTF-8''%C3%A9t%C3%A9.mp4"#)
        #expect(extended.parameters["filename"] == "été.mp4")
        let boundary = HeaderParameters("multipart/form-data; boundary=----abc")
        #expect(boundary.value == "multipart/form-data" && boundary.parameters["boundary"] == "----abc")
    }

    @Test("Form file names: a quote escaped the browser way or with a backslash reads back as a quote")
    func formFileNames() {
        let browser = HeaderParameters(#"form-data; name="file"; filename="say %22cheese%22.mp4""#)
        #expect(HeaderParameters.formFileName(browser.parameters["filename"] ?? "") == #"say "cheese".mp4"#)
        let escaped = HeaderParameters(#"form-data; name="file"; filename="say \"cheese\".mp4""#)
        #expect(HeaderParameters.formFileName(escaped.parameters["filename"] ?? "") == #"say "cheese".mp4"#)
        #expect(HeaderParameters.formFileName("100% fun %41.mp4") == "100% fun %41.mp4")
        #expect(HeaderParameters.formFileName("a%0d%0Ab.mp4") == "a\r\nb.mp4")
    }

    @Test("Upload fields: tag spellings, defaults, capture time")
    func uploadFields() throws {
        let fields = try UploadFields([
            ("tags[1]", "b"), ("tags", "a, c"), ("tags[]", "b"), ("tagsx", "no"),
            ("datetime_taken", "2024-10-20 02:20:00"), ("unique_id", " "),
        ])
        #expect(fields.tags == ["b", "a", "c"])
        #expect(fields.namespace == "default")
        #expect(fields.retainOriginal)
        #expect(fields.datetimeTaken == 1_729_390_800_000)
        #expect(try UploadFields([("datetime_taken", "1729390800000")]).datetimeTaken == 1_729_390_800_000)
        #expect(throws: APIFailure.self) { try UploadFields([("datetime_taken", "2024-13-20 02:20:00")]) }
        #expect(throws: APIFailure.self) { try UploadFields([("longitude", "181")]) }
        #expect(throws: APIFailure.self) { try UploadFields([("callback", "ftp://x/y")]) }
    }

    @Test("Keys compare in full; Bearer is optional")
    func keys() throws {
        let store = try APIKeyStore(keys: ["sk-mavi-a", "sk-mavi-bb"], keyFile: nil)
        #expect(store.authenticate("sk-mavi-a") == APIKeyID(index: 0))
        #expect(store.authenticate("Bearer sk-mavi-bb") == APIKeyID(index: 1))
        #expect(store.authenticate(" sk-mavi-a ") == APIKeyID(index: 0))
        #expect(store.authenticate("sk-mavi-") == nil)
        #expect(store.authenticate("sk-mavi-ab") == nil)
        #expect(store.authenticate("") == nil)
        #expect(store.authenticate(nil) == nil)
        #expect(APIKeyStore.constantTimeEquals(Array("abc".utf8), Array("abc".utf8)))
        #expect(!APIKeyStore.constantTimeEquals(Array("abc".utf8), Array("abd".utf8)))
        #expect(!APIKeyStore.constantTimeEquals(Array("abc".utf8), Array("abcd".utf8)))
    }

    @Test("Loopback detection")
    func loopback() {
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"] { #expect(isLoopbackHost(host), "\(host)") }
        for host in ["0.0.0.0", "192.168.1.10", "example.com", "::", "128.0.0.1"] { #expect(!isLoopbackHost(host), "\(host)") }
    }

    @Test("Namespace directories: plain names kept, anything else made safe")
    func namespaceDirectories() {
        #expect(NamespaceRecord.directoryName(for: "default", token: "0123456789abcdef0123") == "default")
        #expect(NamespaceRecord.directoryName(for: "user_42.v2", token: "0123456789abcdef0123") == "user_42.v2")
        for unsafe in ["../x", "a/b", ".hidden", "", "ünï", String(repeating: "a", count: 65)] {
            #expect(NamespaceRecord.directoryName(for: unsafe, token: "0123456789abcdef0123") == "~0123456789abcdef")
        }
    }

    @Test("Geo distance and frame rates")
    func numbers() {
        let d = GeoDistance.meters(lat1: 39.9042, lon1: 116.4074, lat2: 40.0042, lon2: 116.4074)
        #expect(abs(d - 11_120) < 50)
        #expect(MediaProbe.frameRate("30000/1001") == 29.97)
        #expect(MediaProbe.frameRate("25/1") == 25)
        #expect(MediaProbe.frameRate("0/0") == nil)
    }
}
