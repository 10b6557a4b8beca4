import Glibc

/// Keeps the API key out of `/proc/PID/environ` of a long-running mount.
enum SecretEnvironment {
    /// Overwrites the value of `name` where the process's environment holds it, then removes the
    /// variable. `/proc/PID/environ` shows the environment's original memory, which `unsetenv`
    /// alone leaves as it was.
    static func erase(_ name: String) {
        let prefix = Array((name + "=").utf8)
        var index = 0
        while let entry = environ[index] {
            index += 1
            guard strncmp(entry, prefix.map { CChar(bitPattern: $0) }, prefix.count) == 0 else { continue }
            let value = entry + prefix.count
            memset(value, 0, strlen(value))
        }
        unsetenv(name)
    }
}
