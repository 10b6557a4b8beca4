import Foundation
import Hummingbird
import MaviAPI
import Synchronization
import TestSupport

/// Collects the processing callbacks the server POSTs, on its own loopback port.
final class CallbackReceiver: Sendable {
    private let received = Mutex<[ProcessingCallback]>([])

    var callbacks: [ProcessingCallback] { received.withLock { $0 } }

    /// Runs `body` with the URL callbacks should go to; the receiver stops afterwards.
    static func with<T>(_ body: (CallbackReceiver, String) async throws -> T) async throws -> T {
        let receiver = CallbackReceiver()
        let router = Router()
        router.post("/callback") { request, context -> HTTPResponse.Status in
            let buffer = try await request.body.collect(upTo: 1 << 16)
            if let callback = try? JSONDecoder().decode(ProcessingCallback.self, from: Data(buffer.readableBytesView)) {
                receiver.received.withLock { $0.append(callback) }
            }
            return .ok
        }
        let port = Mutex<Int?>(nil)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in port.withLock { $0 = channel.localAddress?.port } })
        let running = Task { try await app.run() }
        do {
            let bound = try await ServerHarness.poll("the callback receiver to listen", every: .milliseconds(10), within: .seconds(10)) {
                port.withLock { $0 }
            }
            let result = try await body(receiver, "http://127.0.0.1:\(bound)/callback")
            running.cancel()
            _ = await running.result
            return result
        } catch {
            running.cancel()
            _ = await running.result
            throw error
        }
    }
}
