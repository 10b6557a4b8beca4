import Foundation
import MaviAPI
@testable import MaviClient
import Testing

@Suite("API key")
struct APIKeyTests {
    @discardableResult
    private func withKeyFile<Result>(contents: String, mode: Int, _ body: (String) throws -> Result) throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mavifs-key-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("key").path
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return try body(path)
    }

    @Test("a key file readable by its owner only is read and trimmed", arguments: [0o600, 0o400])
    func privateFile(mode: Int) throws {
        let key = try withKeyFile(contents: "  \(Fixtures.testKey)\n", mode: mode) { try APIKey.load(fromFile: $0) }
        #expect(key == (try APIKey(Fixtures.testKey)))
        #expect(key.secret == Fixtures.testKey)
    }

    @Test("a key file others can access is refused, like ssh does", arguments: [0o644, 0o640, 0o604, 0o660, 0o666, 0o601])
    func openFile(mode: Int) throws {
        try withKeyFile(contents: Fixtures.testKey, mode: mode) { path in
            #expect(throws: APIKeyError.insecurePermissions(path: path, mode: UInt16(mode))) { try APIKey.load(fromFile: path) }
            let message = APIKeyError.insecurePermissions(path: path, mode: UInt16(mode)).description
            #expect(message.contains(path) && message.contains("chmod 600") && message.contains(String(format: "%04o", mode)))
            #expect(!message.contains(Fixtures.testKey))
        }
    }

    @Test("unusable key files")
    func unusableFiles() throws {
        #expect(throws: APIKeyError.self) { try APIKey.load(fromFile: "/nonexistent/key") }
        #expect(throws: APIKeyError.notARegularFile(path: "/tmp")) { try APIKey.load(fromFile: "/tmp") }
        try withKeyFile(contents: " \n", mode: 0o600) { path in
            #expect(throws: APIKeyError.empty(source: path)) { try APIKey.load(fromFile: path) }
        }
        try withKeyFile(contents: "sk-mavi-with space", mode: 0o600) { path in
            #expect(throws: APIKeyError.invalidCharacters(source: path)) { try APIKey.load(fromFile: path) }
        }
        try withKeyFile(contents: String(repeating: "k", count: 5_000), mode: 0o600) { path in
            #expect(throws: APIKeyError.self) { try APIKey.load(fromFile: path) }
        }
    }

    @Test("the key from MAVI_API_KEY, or none")
    func environment() throws {
        #expect(try APIKey.fromEnvironment(["MAVI_API_KEY": Fixtures.testKey]) == (try APIKey(Fixtures.testKey)))
        #expect(try APIKey.fromEnvironment([:]) == nil)
        #expect(try APIKey.fromEnvironment(["MAVI_API_KEY": "  "]) == nil)
        #expect(throws: APIKeyError.invalidCharacters(source: "MAVI_API_KEY")) { try APIKey.fromEnvironment(["MAVI_API_KEY": "a\u{7}b"]) }
    }

    @Test("every way of printing a key, or a configuration holding one, is redacted")
    func redaction() throws {
        let key = try APIKey(Fixtures.testKey)
        let configuration = ClientConfiguration(apiKey: key, authScheme: .bearer)
        var dumpedKey = ""
        dump(key, to: &dumpedKey)
        var dumpedConfiguration = ""
        dump(configuration, to: &dumpedConfiguration)
        let texts = [
            "\(key)", String(describing: key), String(reflecting: key), dumpedKey,
            "\(configuration)", String(reflecting: configuration), dumpedConfiguration,
            "\([key])", "\(Optional(key) as Any)",
        ]
        for text in texts {
            #expect(!text.contains(Fixtures.testKey) && !text.contains("TESTKEY"), "leaked: \(text)")
        }
        #expect("\(key)" == "<redacted API key>")
        #expect(Mirror(reflecting: key).children.isEmpty)
    }

    @Test("errors about keys never hold the key")
    func keyErrors() {
        let errors: [APIKeyError] = [
            .missing, .empty(source: "f"), .invalidCharacters(source: "f"), .unreadable(path: "f", reason: "r"),
            .notARegularFile(path: "f"), .insecurePermissions(path: "f", mode: 0o644), .wrongOwner(path: "f"),
        ]
        for error in errors {
            expectNoKey(in: error)
            #expect(!error.description.isEmpty && error.localizedDescription == error.description)
        }
    }

    @Test("the scheme decides the header value")
    func schemes() throws {
        let key = try APIKey(Fixtures.testKey)
        #expect(AuthScheme.raw.headerValue(for: key) == Fixtures.testKey)
        #expect(AuthScheme.bearer.headerValue(for: key) == "Bearer \(Fixtures.testKey)")
    }
}
