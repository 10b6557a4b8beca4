"""Every sample taken, by case and system, with the medians the report shows."""

import statistics


class Results:
    def __init__(self):
        self.cases: dict = {}       # case id -> system key -> {"samples": [...], "error": str | None}
        self.verified: dict = {}    # system key -> (bytes matched, message)
        self.big_read: dict = {}    # system key -> MiB/s of the 4 GiB read (one run, informative)
        self.each: dict = {}        # case id -> system key -> [one pass: {latencies, errors, served}]
        self.calls: dict = {}       # case id -> system key -> [API calls made, per run]

    def add(self, case: str, system: str, samples: list) -> None:
        self.cases.setdefault(case, {})[system] = {"samples": samples, "error": None}

    def fail(self, case: str, system: str, error: str, samples: list) -> None:
        self.cases.setdefault(case, {})[system] = {"samples": samples, "error": error}

    def ok(self, case: str, system: str) -> bool:
        entry = self.cases.get(case, {}).get(system)
        return bool(entry and entry["error"] is None and entry["samples"])

    def median(self, case: str, system: str) -> float | None:
        return statistics.median(self.cases[case][system]["samples"]) if self.ok(case, system) else None

    def error(self, case: str, system: str) -> str | None:
        entry = self.cases.get(case, {}).get(system)
        return entry["error"] if entry else None

    def summary(self, case: str, system: str) -> str:
        samples = self.cases[case][system]["samples"]
        return f"median {statistics.median(samples):.4g} of {', '.join(f'{s:.4g}' for s in samples)}"

    def note_verified(self, system: str, matched: bool, message: str = "") -> None:
        self.verified[system] = (matched, message)

    def note_big_read(self, system: str, mib_per_s: float) -> None:
        self.big_read[system] = mib_per_s

    def note_each(self, case: str, system: str, latencies: list, errors: list, served: dict) -> None:
        """One pass of an "each of N videos" case: seconds per file, the failures, what the server served."""
        self.each.setdefault(case, {}).setdefault(system, []).append(
            {"latencies": latencies, "errors": errors, "served": served})

    def note_calls(self, case: str, system: str, calls: int) -> None:
        self.calls.setdefault(case, {}).setdefault(system, []).append(calls)

    def each_errors(self, case: str, system: str) -> int:
        return sum(len(p["errors"]) for p in self.each.get(case, {}).get(system, []))

    def as_json(self) -> dict:
        return {"cases": self.cases, "verified": self.verified, "big_read_mib_per_s": self.big_read,
                "each": self.each, "calls": self.calls}
