import Foundation

/// SubRip (`.srt`), the subtitle format players load beside a video of the same name. Shared by
/// the server (which reads the subtitle tracks ffmpeg extracts as SRT) and the mount (which writes
/// a transcript's segments as a sidecar file).
public enum SubRip {
    /// The segments as SRT: numbered from 1 in the order given, `HH:MM:SS,mmm --> HH:MM:SS,mmm`,
    /// CRLF-free, a blank line after each cue. Empty lines inside a cue's text would end the cue,
    /// so they are dropped.
    public static func format(_ segments: [TranscriptSegment]) -> String {
        var out = ""
        for (number, segment) in segments.enumerated() {
            let text = segment.content
                .replacingOccurrences(of: "\r\n", with: "\n")
                .split(separator: "\n", omittingEmptySubsequences: true)
                .joined(separator: "\n")
            out += "\(number + 1)\n\(timestamp(segment.startTime)) --> \(timestamp(max(segment.startTime, segment.endTime)))\n\(text)\n\n"
        }
        return out
    }

    /// `HH:MM:SS,mmm`.
    public static func timestamp(_ seconds: Double) -> String {
        let ms = Int64((max(0, seconds) * 1000).rounded())
        return String(format: "%02lld:%02lld:%02lld,%03lld", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
    }

    /// Cues of an SRT text, numbered from 1 in file order. Lenient as players are: a missing or
    /// wrong cue number, `.` instead of `,`, CRLF line ends and a byte-order mark are accepted; a
    /// block without a timing line is skipped.
    public static func parse(_ text: String) -> [TranscriptSegment] {
        var segments: [TranscriptSegment] = []
        let normalized = text.replacingOccurrences(of: "\u{FEFF}", with: "").replacingOccurrences(of: "\r\n", with: "\n")
        var lines = normalized.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)[...]
        while !lines.isEmpty {
            while let first = lines.first, first.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeFirst() }
            var block: [String] = []
            while let first = lines.first, !first.trimmingCharacters(in: .whitespaces).isEmpty {
                block.append(first)
                lines.removeFirst()
            }
            guard let timingIndex = block.firstIndex(where: { $0.contains("-->") }),
                  let (start, end) = timing(block[timingIndex]) else { continue }
            let content = block[(timingIndex + 1)...].joined(separator: "\n")
            segments.append(TranscriptSegment(index: segments.count + 1, content: content, startTime: start, endTime: max(start, end)))
        }
        return segments
    }

    private static func timing(_ line: String) -> (Double, Double)? {
        let parts = line.components(separatedBy: "-->")
        guard parts.count == 2, let start = seconds(parts[0]),
              let end = seconds(parts[1].split(separator: " ", omittingEmptySubsequences: true).first.map(String.init) ?? "")
        else { return nil }
        return (start, end)
    }

    /// `HH:MM:SS,mmm` (or `MM:SS.mmm`) in seconds.
    private static func seconds(_ text: String) -> Double? {
        let fields = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: ".").split(separator: ":")
        guard (2...3).contains(fields.count) else { return nil }
        var total = 0.0
        for field in fields {
            guard let value = Double(field), value >= 0 else { return nil }
            total = total * 60 + value
        }
        return total
    }
}
