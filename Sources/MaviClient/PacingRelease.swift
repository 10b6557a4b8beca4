import Synchronization

/// The pacing permit of the request under way, given back once: as soon as the answer's head
/// has arrived (the server counted the request before it began to answer, so the window may
/// start there), or when the attempt ends, whichever comes first.
///
/// Counting from the end of a large answer instead (1,000 videos of JSON, read and decoded)
/// would add that time to every window: a listing of 100 pages at 5 a second would take 18 %
/// longer than the limit allows.
final class PacingRelease: Sendable {
    private let held: Mutex<(limiter: RateLimiter, permit: RateLimiter.Permit)?>

    init(limiter: RateLimiter?, permit: RateLimiter.Permit?) {
        if let limiter, let permit {
            held = Mutex((limiter, permit))
        } else {
            held = Mutex(nil)
        }
    }

    /// Gives the permit back, the first time only.
    func release() async {
        let taken = held.withLock { held in
            defer { held = nil }
            return held
        }
        if let taken { await taken.limiter.release(taken.permit) }
    }

    /// The release of the attempt the current task runs, for the code that reads its answer.
    @TaskLocal static var current: PacingRelease?
}
