import CFuse3
import Glibc
import Logging
import Synchronization

/// Sends libfuse's own messages to swift-log instead of stderr.
enum LibfuseLog {
    private static let logger = Mutex<Logger?>(nil)

    static func install(_ target: Logger) {
        let first = logger.withLock { current in
            defer { current = target }
            return current == nil
        }
        guard first else { return }
        fuse_set_log_func { level, format, args in
            guard let format, let args else { return }
            var buffer = [CChar](repeating: 0, count: 1024)
            _ = vsnprintf(&buffer, buffer.count, format, args)
            let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                .trimmingCharacters(in: "\n")
            guard !line.isEmpty, let log = LibfuseLog.logger.withLock({ $0 }) else { return }
            switch level {
            case FUSE_LOG_EMERG, FUSE_LOG_ALERT, FUSE_LOG_CRIT, FUSE_LOG_ERR: log.error("libfuse: \(line)")
            case FUSE_LOG_WARNING: log.warning("libfuse: \(line)")
            case FUSE_LOG_NOTICE, FUSE_LOG_INFO: log.info("libfuse: \(line)")
            default: log.debug("libfuse: \(line)")
            }
        }
    }
}

private extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.last == set { s.removeLast() }
        return String(s)
    }
}
