import Hummingbird
import NIOCore

/// Request context that keeps the connection's channel: admin routes check the peer is on
/// loopback, and stalled streams watch whether the client is still there.
struct LibraryRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// JSON bodies are small; uploads stream and never collect.
    var maxUploadSize: Int { 4 * 1024 * 1024 }

    var peerIsLoopback: Bool {
        guard let address = channel.remoteAddress else { return false }
        switch address {
        case .v4(let a): return a.address.sin_addr.s_addr & 0xFF == 127
        case .v6: return address.ipAddress == "::1" || address.ipAddress?.hasPrefix("::ffff:127.") == true
        case .unixDomainSocket: return true
        }
    }
}
