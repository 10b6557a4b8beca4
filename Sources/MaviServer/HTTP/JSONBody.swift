import Foundation
import Hummingbird
import MaviAPI

/// Reads a JSON request body into a `Decodable`, turning every way it can be wrong into the
/// `0001` "JSON parse error" envelope a Spring service answers with.
enum JSONBody {
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, context: LibraryRequestContext, emptyBody: String = "{}") async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: context.maxUploadSize)
        } catch {
            throw APIFailure.invalid(ServerMessages.jsonParseError("the request body is too large"))
        }
        let data = buffer.readableBytes == 0 ? Data(emptyBody.utf8) : Data(buffer.readableBytesView)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let failure as APIFailure {
            throw failure
        } catch {
            throw APIFailure.invalid(ServerMessages.jsonParseError(describe(error)))
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.typeMismatch(let type, let context):
            "expected \(type) at \(path(context))"
        case DecodingError.dataCorrupted(let context):
            context.codingPath.isEmpty ? "the body is not valid JSON" : "invalid value at \(path(context))"
        default:
            "the body does not match the expected structure"
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
}

/// Field readers that accept what Jackson accepts (numbers as numbers or digit strings, `null`)
/// and reject the rest with a parse error naming the field.
extension KeyedDecodingContainer {
    func strictInt64(_ key: Key) throws -> Int64? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        if let n = try? decode(Int64.self, forKey: key) { return n }
        if let s = try? decode(String.self, forKey: key), let n = Int64(s.trimmingCharacters(in: .whitespaces)) { return n }
        throw APIFailure.invalid(ServerMessages.jsonParseError("\(key.stringValue) must be an integer"))
    }

    func strictDouble(_ key: Key) throws -> Double? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        if let d = try? decode(Double.self, forKey: key), d.isFinite { return d }
        if let s = try? decode(String.self, forKey: key), let d = Double(s.trimmingCharacters(in: .whitespaces)), d.isFinite { return d }
        throw APIFailure.invalid(ServerMessages.jsonParseError("\(key.stringValue) must be a number"))
    }

    func strictString(_ key: Key) throws -> String? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        if let s = try? decode(String.self, forKey: key) { return s }
        if let n = try? decode(Int64.self, forKey: key) { return String(n) }
        throw APIFailure.invalid(ServerMessages.jsonParseError("\(key.stringValue) must be a string"))
    }

    func strictStrings(_ key: Key) throws -> [String]? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        if let a = try? decode([String].self, forKey: key) { return a }
        throw APIFailure.invalid(ServerMessages.jsonParseError("\(key.stringValue) must be an array of strings"))
    }
}

/// Coding keys made at run time, for bodies read field by field.
struct FieldKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
