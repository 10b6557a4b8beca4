import ArgumentParser

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run a local library server that speaks the memories.ai API."
    )

    func run() async throws {
        throw ValidationError("serve is not built yet")
    }
}
