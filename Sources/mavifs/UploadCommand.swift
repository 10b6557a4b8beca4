import ArgumentParser

struct UploadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload",
        abstract: "Upload video files to a library."
    )

    func run() async throws {
        throw ValidationError("upload is not built yet")
    }
}
