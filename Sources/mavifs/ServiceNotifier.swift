import Foundation
import Glibc

/// Tells systemd how a `Type=notify` service is doing: `READY=1` once the mount is usable,
/// `STOPPING=1` when it unmounts, and a `STATUS=` line for `systemctl status`. Each message is
/// one datagram to the unix socket named by `$NOTIFY_SOCKET` (sd_notify's protocol; a leading `@`
/// names an abstract socket). Without `$NOTIFY_SOCKET` it does nothing.
struct ServiceNotifier: Sendable {
    let socketPath: String?

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
    }

    var isSupervised: Bool { socketPath != nil }

    func ready(status: String) { send("READY=1\nSTATUS=\(status)\nMAINPID=\(getpid())") }
    func stopping(status: String) { send("STOPPING=1\nSTATUS=\(status)") }
    func status(_ text: String) { send("STATUS=\(text)") }

    /// Sends one datagram; failures are ignored (systemd may have gone away, and the mount works
    /// either way).
    @discardableResult
    func send(_ message: String) -> Bool {
        guard let socketPath else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(socketPath.utf8)
        if pathBytes.first == UInt8(ascii: "@") { pathBytes[0] = 0 }  // abstract namespace
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count + (pathBytes.first == 0 ? 0 : 1))
        let sent = message.withCString { text in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, text, strlen(text), 0, $0, length) }
            }
        }
        return sent >= 0
    }
}
