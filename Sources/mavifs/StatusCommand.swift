import ArgumentParser
import FUSE
import Foundation
import Glibc

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show how mounts are doing: endpoint, videos, cache, downloads, recent errors.",
        discussion: """
            Reads the status each mount publishes (every 2 seconds, in $XDG_RUNTIME_DIR/mavifs or \
            else $XDG_STATE_HOME/mavifs/status) and checks the mount table and the mount's process. \
            Without MOUNTPOINT, shows every mount of this user that is mounted. Exits with 0 when \
            every mount shown is up, 1 otherwise. Never shows the API key.
            """
    )

    @Argument(help: "A mount point (default: every mount).")
    var mountpoint: String?

    @Flag(help: "Print JSON (the published status, plus \"mounted\" and \"process_running\").")
    var json = false

    func run() throws {
        let reports: [Report]
        if let mountpoint {
            let path = MountPointCheck.canonical(mountpoint)
            reports = [Report(mountpoint: path, statusFile: MountStatusFiles.path(forMountpoint: path))]
        } else {
            // Mounts that ended cleanly keep their last status (for `mavifs status DIR`), but a
            // list of every mount shows only those still mounted, stale ones included.
            reports = MountStatusFiles.all().compactMap { file in
                (try? MountStatusFiles.read(file)).map { Report(mountpoint: $0.mountpoint, statusFile: file) }
            }.filter { $0.condition != .notMounted }
        }
        if json {
            try printJSON(reports)
        } else if reports.isEmpty {
            print("no mavifs mounts (mount one with: mavifs mount DIR)")
        } else {
            print(reports.map(\.text).joined(separator: "\n\n"))
        }
        if reports.isEmpty || reports.contains(where: { $0.condition != .up }) { throw ExitCode.failure }
    }

    private func printJSON(_ reports: [Report]) throws {
        let objects: [Any] = try reports.map { report in
            var object: [String: Any] = [:]
            if let status = report.status {
                object = try JSONSerialization.jsonObject(with: MountStatus.encoder.encode(status)) as? [String: Any] ?? [:]
            }
            object["mountpoint"] = report.mountpoint
            object["mounted"] = report.mounted
            object["process_running"] = report.processRunning
            object["condition"] = report.condition.rawValue
            return object
        }
        let value: Any = mountpoint == nil ? objects : objects.first ?? [:]
        let data = try JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
    }
}

/// One mount point: its published status, checked against the mount table and the process list.
extension StatusCommand {
    /// A duration as `status` words it ("40 s", "12 min", "3 h").
    static func seconds(_ value: Double) -> String { Report.seconds(value) }
}

private struct Report {
    enum Condition: String {
        case up
        /// Mounted, but the process that served it is gone: every access fails.
        case stale
        case notMounted = "not_mounted"
        /// Mounted by something that publishes no status (another filesystem, or an older mavifs).
        case unknown
    }

    let mountpoint: String
    let status: MountStatus?
    let fsType: String?
    let processRunning: Bool

    init(mountpoint: String, statusFile: String) {
        self.mountpoint = mountpoint
        var status = try? MountStatusFiles.read(statusFile)
        if let published = status, published.state == .mounted, published.refreshSignal == "USR1", Self.isRunning(published.pid) {
            status = Self.refreshed(published, from: statusFile) ?? published
        }
        self.status = status
        fsType = Unmounter.fileSystemType(at: mountpoint)
        processRunning = status.map { Self.isRunning($0.pid) } ?? false
    }

    var mounted: Bool { fsType != nil }

    var condition: Condition {
        guard mounted else { return .notMounted }
        guard let status else { return .unknown }
        if status.state == .mounted && processRunning { return .up }
        return fsType?.hasPrefix("fuse") == true && !processRunning ? .stale : .unknown
    }

    /// Asks the mount to rewrite its status now and waits for the new file, so that what was just
    /// read or deleted shows; nil if no newer file came. The wait outlasts the mount's own
    /// two-second rewrites, so only a process that does not run at all leaves the older file.
    static func refreshed(_ status: MountStatus, from path: String) -> MountStatus? {
        guard kill(status.pid, SIGUSR1) == 0 else { return nil }
        let deadline = Date().addingTimeInterval(2.5)
        while Date() < deadline {
            usleep(20_000)
            if let fresh = try? MountStatusFiles.read(path), fresh.updatedAt > status.updatedAt { return fresh }
        }
        return nil
    }

    /// kill(pid, 0) succeeds, or fails only for want of permission, and the process is not a
    /// zombie waiting to be reaped.
    static func isRunning(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        // /proc/PID/stat: "PID (name) STATE …"; the name may hold spaces and parentheses.
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        return stat[close...].dropFirst().trimmingCharacters(in: .whitespaces).first != "Z"
    }

    var text: String {
        var lines: [String] = []
        switch condition {
        case .up:
            let since = status.map { " since \(Self.time($0.startedAt))" } ?? ""
            lines.append("\(mountpoint): mounted (pid \(status?.pid ?? 0)\(since))")
        case .stale:
            lines.append("\(mountpoint): STALE, the mount process (pid \(status?.pid ?? 0)) is gone and every access fails")
            lines.append("  fix        mavifs unmount \(mountpoint), then mount again")
        case .notMounted:
            if let status {
                let when = status.state == .stopped ? "unmounted \(Self.time(status.updatedAt))" : "its process (pid \(status.pid)) ended"
                lines.append("\(mountpoint): not mounted (last mount \(when))")
            } else {
                lines.append("\(mountpoint): not mounted")
                return lines.joined(separator: "\n")
            }
        case .unknown:
            lines.append("\(mountpoint): mounted (\(fsType ?? "?")), but no mavifs process publishes its status here")
            if status == nil { return lines.joined(separator: "\n") }
        }
        guard let status else { return lines.joined(separator: "\n") }
        lines.append("  endpoint   \(status.endpoint)  namespace \(status.namespace)\(status.allowDelete ? "  (rm deletes videos)" : "")")
        if let videos = status.videos {
            let age = status.listingAgeSeconds.map { ", listed \(Self.seconds($0)) ago" } ?? ""
            let note = status.listingStored == true ? " (as an earlier mount stored them; the first refresh has not landed yet)"
                : status.listingStale ? " (the last refresh failed: this is the previous listing)" : ""
            lines.append("  videos     \(videos)\(status.listingStored == true ? "" : age)\(note)")
        }
        if let refreshes = status.listingRefreshes, refreshes.incremental + refreshes.whole > 0 {
            let why = refreshes.lastWholeReason.map { "; last whole listing: \($0)" } ?? ""
            lines.append("  refreshes  \(refreshes.incremental) from the top, \(refreshes.whole) whole; the last took \(refreshes.lastCalls) list calls\(why)")
        }
        let cache = status.cache
        let cap = cache.maxBytes > 0 ? " of \(formatBytes(cache.maxBytes))" : ""
        lines.append("  cache      \(formatBytes(cache.bytesCached))\(cap) in \(cache.files) videos (\(cache.completeFiles) complete), \(cache.directory)")
        if cache.bytesFromCache + cache.bytesFromNetwork == 0 {
            lines.append("  hit ratio  no reads yet")
        } else {
            let percent = String(format: "%.1f", cache.hitRatio * 100)
            lines.append("  hit ratio  \(percent)% (\(formatBytes(cache.bytesFromCache)) from the cache, \(formatBytes(cache.bytesFromNetwork)) from the network)")
        }
        guard condition == .up else {
            lines.append(contentsOf: errorLines(status))
            return lines.joined(separator: "\n")
        }
        if status.downloads.isEmpty {
            lines.append("  downloads  none in flight")
        } else {
            lines.append("  downloads  \(status.downloads.count) in flight")
            for d in status.downloads {
                let percent = d.size > 0 ? Int(d.received * 100 / d.size) : 100
                let attempt = d.attempt > 1 ? ", attempt \(d.attempt)" : ""
                let background = d.background ? ", in the background" : ""
                lines.append("             \(d.name ?? d.videoNo)  \(percent)% (\(formatBytes(d.received)) of \(formatBytes(d.size))\(attempt)\(background))")
            }
        }
        if let deletes = status.deletes { lines.append(contentsOf: Self.deleteLines(deletes)) }
        if let thumbnails = status.thumbnails {
            var line = "  thumbnails \(thumbnails.written) written to the desktop's thumbnail cache"
            if thumbnails.current > 0 { line += ", \(thumbnails.current) already there" }
            if thumbnails.failed > 0 { line += ", \(thumbnails.failed) failed (see the log)" }
            lines.append(line)
        }
        if let metrics = status.metricsURL { lines.append("  metrics    \(metrics)") }
        lines.append(contentsOf: errorLines(status))
        return lines.joined(separator: "\n")
    }

    /// What `rm` did: pending (recorded, on their way), confirmed, refused and why.
    static func deleteLines(_ deletes: MountStatus.Deletes) -> [String] {
        guard deletes.pending + deletes.confirmed + deletes.refused + deletes.replayed > 0 else { return [] }
        var summary = "  deletes    \(deletes.pending) pending, \(deletes.confirmed) confirmed by the server"
        if deletes.refused > 0 { summary += ", \(deletes.refused) refused" }
        summary += " (\(deletes.calls) calls"
        if deletes.replayed > 0 { summary += "; \(deletes.replayed) recorded by an earlier mount" }
        summary += ")"
        var lines = [summary]
        if deletes.retrying, let error = deletes.lastError {
            lines.append("             retrying: \(error)")
        }
        for refusal in deletes.refusals.suffix(3) {
            let ids = refusal.videoNos.prefix(5).joined(separator: ", ") + (refusal.videoNos.count > 5 ? ", …" : "")
            lines.append("             refused (they stay in the library): \(ids): \(refusal.reason)")
        }
        return lines
    }

    private func errorLines(_ status: MountStatus) -> [String] {
        guard !status.recentEvents.isEmpty else { return ["  errors     none recently"] }
        var lines = ["  errors     \(status.recentEvents.count) recently, latest last\(status.logFile.map { " (all in \($0))" } ?? ""):"]
        for event in status.recentEvents.suffix(5) {
            lines.append("             \(Self.time(event.time)) \(event.level): \(event.message)")
        }
        return lines
    }

    static func seconds(_ value: Double) -> String {
        value < 90 ? "\(Int(value.rounded())) s" : value < 5400 ? "\(Int((value / 60).rounded())) min" : "\(Int((value / 3600).rounded())) h"
    }

    static func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = Calendar.current.isDateInToday(date) ? "HH:mm:ss" : "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: date)
    }
}
