/// Strings packed one after the other in one byte array, each with its position, and an
/// open-addressing index from a string to its first position.
///
/// A `[String]` of file names or video numbers longer than 15 bytes costs a heap allocation per
/// string (about 64 bytes for a 20-byte name) and a dictionary to find them by value about 40
/// more; packed, a string costs its bytes and 12 more. The mount's names and video numbers, a
/// million of each in a large library, are kept this way.
public struct PackedStrings: Sendable, Equatable {
    private var bytes: [UInt8] = []
    /// Where each string ends in `bytes` (it starts where the one before ends).
    private var ends: [UInt32] = []
    /// `position + 1` of the string hashed there (0: empty); at most half full.
    private var slots = [Int32](repeating: 0, count: 16)

    public init() {}

    public init(_ strings: some Sequence<String>) {
        for string in strings { append(string) }
        fit()
    }

    public var count: Int { ends.count }

    /// Some string was appended more than once.
    public private(set) var hasDuplicates = false

    public subscript(position: Int) -> String {
        String(decoding: bytes[range(position)], as: UTF8.self)
    }

    /// The string at `position`, if there is one.
    public func string(at position: Int) -> String? {
        position >= 0 && position < count ? self[position] : nil
    }

    /// The first position of `string`, if it is here.
    public func firstPosition(of string: String) -> Int? {
        var key = string
        return key.withUTF8 { find($0) }
    }

    /// Appends `string` at the next position and returns it; the index keeps a string's first
    /// position.
    @discardableResult
    public mutating func append(_ string: String) -> Int {
        var key = string
        return key.withUTF8 { key in
            switch probe(key) {
            case .found:
                hasDuplicates = true
                add(key, into: nil)
            case .empty(let slot):
                add(key, into: slot)
            }
            return ends.count - 1
        }
    }

    /// The strings of `other` at `positions` appended in order, copied as they are packed.
    public mutating func append(_ positions: Range<Int>, of other: PackedStrings) {
        guard !positions.isEmpty else { return }
        let from = other.range(positions.lowerBound).lowerBound
        let to = other.range(positions.upperBound - 1).upperBound
        precondition(bytes.count + (to - from) <= Int(UInt32.max), "more than 4 GiB of names")
        let shift = bytes.count - from
        bytes.append(contentsOf: other.bytes[from..<to])
        let first = ends.count
        for end in other.ends[positions] { ends.append(UInt32(Int(end) + shift)) }
        if ends.count * 2 > slots.count {
            grow()
        } else {
            for position in first..<ends.count { insert(position) }
        }
    }

    /// The first position of `string`, appending it if it is not here yet.
    public mutating func position(adding string: String) -> Int {
        var key = string
        return key.withUTF8 { key in
            switch probe(key) {
            case .found(let position):
                return position
            case .empty(let slot):
                add(key, into: slot)
                return ends.count - 1
            }
        }
    }

    /// The same strings in the same order.
    public static func == (a: PackedStrings, b: PackedStrings) -> Bool {
        a.ends == b.ends && a.bytes == b.bytes
    }

    /// Whether `string` is the string at `position`, without making it.
    public func matches(_ string: String, at position: Int) -> Bool {
        bytes[range(position)].elementsEqual(string.utf8)
    }

    /// Keeps the spare capacity small once nothing more is appended: the bytes', and the
    /// index's when it was made for many more strings than it holds.
    public mutating func fit() {
        bytes = fitted(bytes)
        ends = fitted(ends)
        var size = 16
        while count * 2 > size { size *= 2 }
        if slots.count > size * 2 {
            slots = [Int32](repeating: 0, count: size)
            for position in ends.indices { insert(position) }
        }
    }

    /// Room for `count` strings in all without the index growing on the way.
    public mutating func reserve(_ count: Int) {
        ends.reserveCapacity(count)
        if count * 2 > slots.count { grow(toHold: count) }
    }

    /// Packs `key`; indexes it in `slot` (where its probe ended) unless it is a string already
    /// indexed (`nil`).
    private mutating func add(_ key: UnsafeBufferPointer<UInt8>, into slot: Int?) {
        precondition(bytes.count + key.count <= Int(UInt32.max), "more than 4 GiB of names")
        bytes.append(contentsOf: key)
        ends.append(UInt32(bytes.count))
        guard let slot else { return }
        if ends.count * 2 > slots.count {
            grow()
        } else {
            slots[slot] = Int32(ends.count)
        }
    }

    private enum Probe {
        case found(Int)
        /// Not here; the empty slot where it would go.
        case empty(Int)
    }

    private func probe(_ key: UnsafeBufferPointer<UInt8>) -> Probe {
        var slot = Self.hash(key) % slots.count
        while slots[slot] != 0 {
            let position = Int(slots[slot]) - 1
            if bytes[range(position)].elementsEqual(key) { return .found(position) }
            slot = (slot + 1) % slots.count
        }
        return .empty(slot)
    }

    private func range(_ position: Int) -> Range<Int> {
        (position == 0 ? 0 : Int(ends[position - 1]))..<Int(ends[position])
    }

    private func find(_ key: UnsafeBufferPointer<UInt8>) -> Int? {
        if case .found(let position) = probe(key) { return position }
        return nil
    }

    private mutating func insert(_ position: Int) {
        var slot = Self.hash(bytes[range(position)]) % slots.count
        while slots[slot] != 0 {
            // Already indexed at an earlier position: the first one stays.
            if bytes[range(Int(slots[slot]) - 1)].elementsEqual(bytes[range(position)]) {
                hasDuplicates = true
                return
            }
            slot = (slot + 1) % slots.count
        }
        slots[slot] = Int32(position + 1)
    }

    /// At least twice the slots, every string indexed again in order (so each keeps its first position).
    private mutating func grow(toHold count: Int = 0) {
        var size = slots.count * 2
        while max(count, ends.count) * 2 > size { size *= 2 }
        slots = [Int32](repeating: 0, count: size)
        for position in ends.indices { insert(position) }
    }

    /// FNV-1a: it only spreads the strings over the slots.
    private static func hash(_ bytes: some Sequence<UInt8>) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return Int(truncatingIfNeeded: h & 0x7fff_ffff_ffff_ffff)
    }
}

/// `array` in storage of its own size: packed listings and names live as long as their listing,
/// and what growing by doubling left spare (up to half) would live as long.
func fitted<Element>(_ array: [Element]) -> [Element] {
    guard array.capacity > array.count + array.count / 16 else { return array }
    return [Element](unsafeUninitializedCapacity: array.count) { buffer, initialized in
        initialized = buffer.initialize(fromContentsOf: array)
    }
}
