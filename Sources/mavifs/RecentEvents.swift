import Foundation
import Logging
import Synchronization

/// The last problems a mount logged (notices, warnings, errors), kept for `mavifs status`.
///
/// Every log line that says something went wrong, or was refused, also says what to do; keeping
/// the last few lets a person see them without digging through the log file.
final class RecentEvents: Sendable {
    struct Event: Codable, Sendable, Equatable {
        var time: Date
        var level: String
        var source: String
        var message: String
    }

    private let events = Mutex<[Event]>([])
    let capacity: Int
    /// Removes the API key from a line before it is kept (no component logs it, and this makes sure).
    private let scrub: @Sendable (String) -> String

    init(capacity: Int = 20, scrub: @escaping @Sendable (String) -> String = { $0 }) {
        self.capacity = capacity
        self.scrub = scrub
    }

    func record(level: Logger.Level, source: String, message: String) {
        let event = Event(time: Date(), level: level.rawValue, source: source, message: scrub(message))
        events.withLock { events in
            events.append(event)
            if events.count > capacity { events.removeFirst(events.count - capacity) }
        }
    }

    var snapshot: [Event] { events.withLock { $0 } }
}

/// A log handler that hands lines of `notice` level and above to `RecentEvents`, with their
/// metadata written out as `key=value`.
struct RecentEventsLogHandler: LogHandler {
    let label: String
    let events: RecentEvents
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .notice

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        guard event.level >= .notice else { return }
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let details = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        events.record(level: event.level, source: label, message: details.isEmpty ? "\(event.message)" : "\(event.message) (\(details))")
    }
}
