import Foundation

/// Decoding helpers for fields the live service sends either as JSON numbers or as strings of
/// digits, sometimes `null`, sometimes the literal string `"null"`.
extension KeyedDecodingContainer {
    /// An integer sent as a number, a digit string, or a float with no fraction. `nil` when the key
    /// is missing, `null`, `"null"`, empty, or not a number at all.
    public func lenientInt64(_ key: Key) -> Int64? {
        guard contains(key), (try? decodeNil(forKey: key)) != true else { return nil }
        if let n = try? decode(Int64.self, forKey: key) { return n }
        if let d = try? decode(Double.self, forKey: key), d.isFinite, d.rounded() == d,
           d >= -9.2e18, d <= 9.2e18 { return Int64(d) }
        if let s = try? decode(String.self, forKey: key) {
            let t = s.trimmingCharacters(in: .whitespaces)
            if let n = Int64(t) { return n }
            if let d = Double(t), d.isFinite, d >= -9.2e18, d <= 9.2e18 { return Int64(d.rounded()) }
        }
        return nil
    }

    public func lenientInt(_ key: Key) -> Int? {
        lenientInt64(key).flatMap { Int(exactly: $0) }
    }

    /// A floating-point value sent as a number or a numeric string.
    public func lenientDouble(_ key: Key) -> Double? {
        guard contains(key), (try? decodeNil(forKey: key)) != true else { return nil }
        if let d = try? decode(Double.self, forKey: key) { return d.isFinite ? d : nil }
        if let s = try? decode(String.self, forKey: key), let d = Double(s.trimmingCharacters(in: .whitespaces)) {
            return d.isFinite ? d : nil
        }
        return nil
    }

    /// A string, with `null`, `"null"` and non-strings read as absent. Numbers are accepted as their text.
    public func lenientString(_ key: Key) -> String? {
        guard contains(key), (try? decodeNil(forKey: key)) != true else { return nil }
        if let s = try? decode(String.self, forKey: key) { return s == "null" ? nil : s }
        if let n = try? decode(Int64.self, forKey: key) { return String(n) }
        if let d = try? decode(Double.self, forKey: key) { return String(d) }
        return nil
    }

    /// An array of strings; a single string is read as a one-element array, anything else as empty.
    public func lenientStrings(_ key: Key) -> [String] {
        guard contains(key), (try? decodeNil(forKey: key)) != true else { return [] }
        if let a = try? decode([String?].self, forKey: key) { return a.compactMap { $0 } }
        if let s = try? decode(String.self, forKey: key) { return s.isEmpty ? [] : [s] }
        return []
    }
}
