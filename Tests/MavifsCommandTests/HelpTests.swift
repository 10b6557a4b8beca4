import Foundation
import Testing
import TestSupport

/// What a person reads before anything else: --help and shell completions.
@Suite("help and completions", .timeLimit(.minutes(1)))
struct HelpTests {
    @Test("completion scripts know every command and the new options", arguments: ["bash", "zsh", "fish"])
    func completions(shell: String) async throws {
        let result = try await run([try MavifsBinary.path(), "--generate-completion-script", shell])
        #expect(result.status == 0, "\(result.stderr)")
        for word in ["mount", "unmount", "status", "serve", "upload", "cache", "metrics-addr", "dry-run", "config"] {
            #expect(result.stdout.contains(word), "\(shell) completion lacks \(word)")
        }
    }

    @Test("mount --help says where the settings file is, how flags and file combine, and what the status command is")
    func mountHelp() async throws {
        let result = try await run([try MavifsBinary.path(), "mount", "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("config.toml"))
        #expect(result.stdout.contains("Flags") && result.stdout.contains("--dry-run"))
        #expect(result.stdout.contains("mavifs status"))
        #expect(result.stdout.contains("READY=1"))
        let status = try await run([try MavifsBinary.path(), "status", "--help"])
        // Help text is wrapped to the terminal's width: compare words, not lines.
        let words = status.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(words.contains("Never shows the API key"), "\(status.stdout)")
    }
}
