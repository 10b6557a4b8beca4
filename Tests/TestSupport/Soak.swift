import Foundation

/// Long variants of reliability tests. CI runs them shortened; `MAVIFS_SOAK=1` runs them long.
public enum Soak {
    public static let enabled = ProcessInfo.processInfo.environment["MAVIFS_SOAK"].map { $0 != "0" && !$0.isEmpty } ?? false

    /// `ci` normally, `soak` under `MAVIFS_SOAK=1`.
    public static func scale<T>(ci: T, soak: T) -> T { enabled ? soak : ci }
}

/// Figures a reliability test measured, printed on one line each so a run's log can be collected.
public func reportFigure(_ suite: String, _ text: String) {
    print("[figures] \(suite): \(text)")
}
