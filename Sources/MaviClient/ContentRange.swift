/// A `Content-Range: bytes FIRST-LAST/COMPLETE` header value (`COMPLETE` may be `*`).
public struct ContentRange: Sendable, Hashable, CustomStringConvertible {
    public var first: Int64
    public var last: Int64
    /// The whole representation's length, when the server knows it.
    public var completeLength: Int64?

    public init(first: Int64, last: Int64, completeLength: Int64?) {
        self.first = first
        self.last = last
        self.completeLength = completeLength
    }

    /// Parses a header value; `nil` for anything else, including the `bytes */N` form of a 416.
    public init?(headerValue: String) {
        let value = headerValue.trimmingPrefixAndSpaces("bytes")
        guard let slash = value.firstIndex(of: "/"), let dash = value[..<slash].firstIndex(of: "-"),
              let first = Int64(value[..<dash]), let last = Int64(value[value.index(after: dash)..<slash]),
              first >= 0, last >= first else { return nil }
        let complete = value[value.index(after: slash)...]
        if complete == "*" {
            completeLength = nil
        } else if let length = Int64(complete), length > last {
            completeLength = length
        } else {
            return nil
        }
        self.first = first
        self.last = last
    }

    /// The complete length from the `bytes */N` value a 416 carries.
    static func unsatisfiedLength(headerValue: String) -> Int64? {
        let value = headerValue.trimmingPrefixAndSpaces("bytes")
        guard value.hasPrefix("*/") else { return nil }
        return Int64(value.dropFirst(2))
    }

    public var count: Int64 { last - first + 1 }

    /// Whether this answers a request for `requested`: same start, and the same end unless the
    /// representation ends sooner.
    func answers(_ requested: ClosedRange<Int64>) -> Bool {
        guard first == requested.lowerBound else { return false }
        if last == requested.upperBound { return true }
        if let completeLength, last < requested.upperBound { return last == completeLength - 1 }
        return false
    }

    public var description: String { "bytes \(first)-\(last)/\(completeLength.map(String.init) ?? "*")" }
}

extension String {
    fileprivate func trimmingPrefixAndSpaces(_ unit: String) -> Substring {
        var value = self[...].drop(while: { $0 == " " })
        if value.lowercased().hasPrefix(unit) { value = value.dropFirst(unit.count) }
        return Substring(value.filter { $0 != " " })
    }
}
