import Foundation
import Hummingbird

/// One namespace as `GET /_admin/namespaces` lists it.
public struct NamespaceListing: Codable, Sendable, Equatable {
    public var uniqueID: String
    /// The namespace's file directory listing (see `/files/<token>/`).
    public var filesURL: String

    enum CodingKeys: String, CodingKey { case uniqueID = "unique_id", filesURL = "files_url" }
}

extension Library {
    /// Admin routes for tests and benchmarks. They need no key but answer only peers on loopback
    /// (anyone else gets 404), and faults never apply to them.
    ///
    ///     GET    /_admin/stats          ServerStats
    ///     DELETE /_admin/stats          reset the counters
    ///     GET    /_admin/faults         FaultSettings in force (bursts count down)
    ///     POST   /_admin/faults         replace them with the FaultSettings in the body
    ///     DELETE /_admin/faults         clear all faults
    ///     GET    /_admin/namespaces     [NamespaceListing]
    func admin(_ handler: @escaping Handler) -> Handler {
        { request, context in
            guard context.peerIsLoopback else { return Self.notFound }
            return try await handler(request, context)
        }
    }

    func adminStats(_ request: Request, _ context: LibraryRequestContext) async throws -> Response {
        JSONReply.json(stats.snapshot())
    }

    func adminResetStats(_ request: Request, _ context: LibraryRequestContext) async throws -> Response {
        stats.reset()
        return JSONReply.json(stats.snapshot())
    }

    func adminFaults(_ request: Request, _ context: LibraryRequestContext) async throws -> Response {
        JSONReply.json(faults.settings)
    }

    func adminSetFaults(_ request: Request, _ context: LibraryRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        do {
            let settings = try JSONDecoder().decode(FaultSettings.self, from: Data(body.readableBytesView))
            faults.replace(with: settings)
            let described = (try? JSONReply.encoder().encode(settings)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
            logger.info("faults set: \(described)")
            return JSONReply.json(faults.settings)
        } catch {
            return Response(status: .badRequest, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "invalid fault settings: \(error)\n")))
        }
    }

    func adminClearFaults(_ request: Request, _ context: LibraryRequestContext) async throws -> Response {
        faults.replace(with: FaultSettings())
        return JSONReply.json(faults.settings)
    }

    func adminNamespaces(_ request: Request, _ context: LibraryRequestContext) async throws -> Response {
        let urls = PublicURLs(request: request, library: self)
        let listing = try await database.allNamespaces().map {
            NamespaceListing(uniqueID: $0.name, filesURL: urls.filesDirectory($0))
        }
        return JSONReply.json(listing)
    }
}
