/// Keys in least-recently-used order: touching is O(1), and eviction walks from the oldest.
///
/// A doubly linked list threaded through arrays, with a dictionary from key to node.
struct LRUList<Key: Hashable> {
    private var nodes: [Node] = []
    private var index: [Key: Int] = [:]
    private var free: [Int] = []
    private var head = -1  // least recently used
    private var tail = -1  // most recently used

    private struct Node {
        var key: Key?
        var previous = -1
        var next = -1
    }

    var count: Int { index.count }

    func contains(_ key: Key) -> Bool { index[key] != nil }

    /// Makes `key` the most recently used, adding it if needed.
    mutating func touch(_ key: Key) {
        if let node = index[key] {
            unlink(node)
            append(node)
        } else {
            let node: Int
            if let reused = free.popLast() {
                node = reused
                nodes[node] = Node(key: key)
            } else {
                node = nodes.count
                nodes.append(Node(key: key))
            }
            index[key] = node
            append(node)
        }
    }

    /// Adds `key` as the least recently used (for entries loaded from disk, older than any touch).
    mutating func insertOldest(_ key: Key) {
        guard index[key] == nil else { return }
        touch(key)
        let node = index[key]!
        unlink(node)
        nodes[node].next = head
        nodes[node].previous = -1
        if head >= 0 { nodes[head].previous = node } else { tail = node }
        head = node
    }

    mutating func remove(_ key: Key) {
        guard let node = index.removeValue(forKey: key) else { return }
        unlink(node)
        nodes[node].key = nil
        free.append(node)
    }

    /// Keys from the least recently used on, while `body` returns true.
    func forEachFromOldest(_ body: (Key) -> Bool) {
        var node = head
        while node >= 0 {
            let next = nodes[node].next
            if let key = nodes[node].key, !body(key) { return }
            node = next
        }
    }

    private mutating func unlink(_ node: Int) {
        let (previous, next) = (nodes[node].previous, nodes[node].next)
        if previous >= 0 { nodes[previous].next = next } else { head = next }
        if next >= 0 { nodes[next].previous = previous } else { tail = previous }
        nodes[node].previous = -1
        nodes[node].next = -1
    }

    private mutating func append(_ node: Int) {
        nodes[node].previous = tail
        nodes[node].next = -1
        if tail >= 0 { nodes[tail].next = node } else { head = node }
        tail = node
    }
}
