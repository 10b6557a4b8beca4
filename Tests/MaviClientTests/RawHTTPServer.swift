import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A loopback server that answers every connection with exact bytes, for the replies a real HTTP
/// server library will not produce: a chunked body cut mid-way, a body shorter than its
/// Content-Length, a stream that stalls.
final class RawHTTPServer: Sendable {
    enum Step: Sendable {
        case send(String)
        case sendBytes([UInt8])
        case pause(Duration)
        /// Keep the connection open and silent until the server stops.
        case stall
    }

    /// The steps for each connection, by its number (from 0); the last script repeats.
    let scripts: [[Step]]
    private let connections = Atomic<Int>(0)

    init(_ scripts: [[Step]]) {
        self.scripts = scripts
    }

    convenience init(_ script: [Step]) {
        self.init([script])
    }

    /// Connections accepted so far.
    var connectionCount: Int { connections.load(ordering: .relaxed) }

    /// Runs `body` with the server listening on a free loopback port; the server and every
    /// connection it holds are closed when `body` returns or throws.
    func run<Result: Sendable>(_ body: (URL) async throws -> Result) async throws -> Result {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let port = server.channel.localAddress?.port ?? 0
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await server.executeThenClose { inbound in
                    try await withThrowingDiscardingTaskGroup { connections in
                        for try await connection in inbound {
                            let number = self.connections.wrappingAdd(1, ordering: .relaxed).oldValue
                            let script = self.scripts[min(number, self.scripts.count - 1)]
                            connections.addTask { try? await Self.serve(connection, script) }
                        }
                    }
                }
            }
            defer { group.cancelAll() }
            return try await body(URL(string: "http://127.0.0.1:\(port)")!)
        }
    }

    private static func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, _ script: [Step]) async throws {
        try await connection.executeThenClose { inbound, outbound in
            // Wait for the end of the request head; the small bodies of our requests come along.
            var received = ""
            for try await chunk in inbound {
                received += String(buffer: chunk)
                if received.contains("\r\n\r\n") { break }
            }
            for step in script {
                switch step {
                case .send(let text): try await outbound.write(ByteBuffer(string: text))
                case .sendBytes(let bytes): try await outbound.write(ByteBuffer(bytes: bytes))
                case .pause(let duration): try await Task.sleep(for: duration)
                case .stall: try await Task.sleep(for: .seconds(60))
                }
            }
        }
    }
}

extension RawHTTPServer.Step {
    /// A response head with the given extra header lines.
    static func head(status: String = "200 OK", _ headers: [String]) -> Self {
        .send("HTTP/1.1 \(status)\r\n" + headers.map { $0 + "\r\n" }.joined() + "\r\n")
    }

    /// One chunk of a chunked body.
    static func chunk(_ text: String) -> Self {
        .send(String(text.utf8.count, radix: 16) + "\r\n" + text + "\r\n")
    }

    static let lastChunk = Self.send("0\r\n\r\n")
}
