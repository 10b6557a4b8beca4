import Hummingbird
import MaviAPI

/// Every route the server answers, in one place.
enum LibraryRouter {
    static func build(_ library: Library) -> Router<LibraryRequestContext> {
        let router = Router(context: LibraryRequestContext.self)
        router.add(middleware: GatewayNotFoundMiddleware())

        router.post(RouterPath(APIPath.listVideos), use: library.api(.listVideos, limit: .listVideos, library.listVideos))
        router.post(RouterPath(APIPath.download), use: library.api(.download, limit: .download, library.download))
        router.post(RouterPath(APIPath.deleteVideos), use: library.api(.deleteVideos, limit: .deleteVideos, library.deleteVideos))
        router.get(RouterPath(APIPath.getMetadata), use: library.api(.getMetadata, limit: nil, library.getMetadata))
        router.post(RouterPath(APIPath.upload), use: library.api(.upload, limit: .upload, library.upload))
        router.post(RouterPath(APIPath.uploadURL), use: library.api(.uploadURL, limit: .upload, library.uploadURL))
        router.post(RouterPath(APIPath.search), use: library.api(.search, limit: .search, library.search))
        router.get(RouterPath(APIPath.searchAudioTranscripts), use: library.api(.searchAudioTranscripts, limit: .transcription, library.searchAudioTranscripts))
        router.get(RouterPath(APIPath.getAudioTranscription), use: library.api(.getAudioTranscription, limit: .transcription, library.getAudioTranscription))
        router.get(RouterPath(APIPath.getVideoCaption), use: library.api(.getVideoCaption, limit: .transcription, library.getVideoCaption))
        for path in [APIPath.download, APIPath.downloadV2] {
            let blob = library.api(.downloadBlob, limit: nil, library.downloadBlob)
            router.get(RouterPath(path), use: blob)
            router.head(RouterPath(path), use: blob)
        }
        router.delete(RouterPath(APIPath.legacyDelete), use: library.api(.legacyDelete, limit: .deleteVideos, library.legacyDelete))

        let index = library.open(.index, library.fileIndex)
        router.get("/files/:token", use: index)
        router.head("/files/:token", use: index)
        let file = library.open(.file, library.videoFile)
        router.get("/files/:token/:file", use: file)
        router.head("/files/:token/:file", use: file)
        let cover = library.open(.cover, library.coverFile)
        router.get("/covers/:token/:file", use: cover)
        router.head("/covers/:token/:file", use: cover)

        router.get("/_admin/stats", use: library.admin(library.adminStats))
        router.delete("/_admin/stats", use: library.admin(library.adminResetStats))
        router.get("/_admin/faults", use: library.admin(library.adminFaults))
        router.post("/_admin/faults", use: library.admin(library.adminSetFaults))
        router.delete("/_admin/faults", use: library.admin(library.adminClearFaults))
        router.get("/_admin/namespaces", use: library.admin(library.adminNamespaces))
        return router
    }
}

/// Unknown paths get the gateway's JSON 404 (`{timestamp, path, status, error, requestId}`),
/// as the live service's infrastructure answers them.
struct GatewayNotFoundMiddleware: RouterMiddleware {
    typealias Context = LibraryRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            return JSONReply.infrastructure(.notFound, path: request.uri.path)
        }
    }
}
