import ArgumentParser
import CoreMetrics
import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import Synchronization

/// `HOST:PORT` for `--metrics-addr` (`[::1]:PORT` for IPv6; port 0 picks a free one).
struct MetricsAddress: ExpressibleByArgument, Sendable, Equatable, CustomStringConvertible {
    let host: String
    let port: Int

    init?(argument: String) {
        guard let colon = argument.lastIndex(of: ":") else { return nil }
        var host = String(argument[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(argument[argument.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        self.host = host
        self.port = port
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    var isLoopback: Bool { host == "localhost" || host == "::1" || host.hasPrefix("127.") }
}

/// Prometheus metrics of a mount, served as text at `http://HOST:PORT/metrics`.
///
/// swift-metrics is bootstrapped with a Prometheus registry only when this is started, so a mount
/// without `--metrics-addr` pays nothing for the counters in its layers.
final class MetricsEndpoint: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let running = Mutex<(group: ServiceGroup, task: Task<Void, Never>)?>(nil)

    /// Makes every `Counter`, `Timer` and `Gauge` made from now on in this process report here.
    /// Once per process.
    init() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }

    /// Starts listening; returns the URL of the metrics page once the port is bound. `refresh` runs
    /// before each scrape, to bring values sampled from elsewhere up to date.
    func start(at address: MetricsAddress, refresh: @escaping @Sendable () -> Void, logger: Logger) async throws -> String {
        let registry = registry
        let router = Router()
        router.get("metrics") { _, _ -> Response in
            refresh()
            var text: [UInt8] = []
            registry.emit(into: &text)
            // The text format wants every line ended, the last one too.
            if let last = text.last, last != UInt8(ascii: "\n") { text.append(UInt8(ascii: "\n")) }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
        }
        let listener = ListenerState()
        // Its own logger: the listener's messages are about this listener, not the library.
        var quiet = Logger(label: "mavifs.metrics") { StreamLogHandler.standardError(label: $0) }
        quiet.logLevel = .warning
        let app = Application(
            router: router, configuration: .init(address: .hostname(address.host, port: address.port), serverName: nil),
            onServerRunning: { channel in listener.bound(channel.localAddress?.port ?? address.port) }, logger: quiet)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: quiet))
        let task = Task {
            do {
                try await group.run()
                listener.ended("the listener stopped")
            } catch {
                listener.ended("\(error)")
            }
        }
        running.withLock { $0 = (group, task) }
        // Either the port is bound, or the listener ended (address in use, say) and says why.
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let (port, ended) = listener.state
            if let port {
                let host = address.host.contains(":") ? "[\(address.host)]" : address.host
                return "http://\(host):\(port)/metrics"
            }
            if let ended {
                throw ValidationError("cannot serve metrics at \(address): \(ended) (choose another --metrics-addr)")
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        await stop()
        throw ValidationError("cannot serve metrics at \(address): the listener did not start within 30 s")
    }

    /// Stops listening, letting a scrape in progress finish.
    func stop() async {
        guard let (group, task) = running.withLock({ $0 }) else { return }
        await group.triggerGracefulShutdown()
        await task.value
    }

    private final class ListenerState: Sendable {
        private let value = Mutex<(port: Int?, ended: String?)>((nil, nil))
        func bound(_ port: Int) { value.withLock { $0.port = port } }
        func ended(_ reason: String) { value.withLock { $0.ended = reason } }
        var state: (port: Int?, ended: String?) { value.withLock { $0 } }
    }
}
