import Foundation

/// A byte count as people read it ("1.1 MB"), in binary units; nothing is "0 bytes" rather than
/// Foundation's "Zero KB". Shared by `status` and `cache`, so they speak of sizes alike.
func formatBytes(_ count: Int64) -> String {
    count == 0 ? "0 bytes" : ByteCountFormatter.string(fromByteCount: count, countStyle: .binary)
}
