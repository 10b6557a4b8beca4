"""What else used the CPU during the run, so the results can say how busy the machine was."""

import os
import threading
import time

TICKS = os.sysconf("SC_CLK_TCK")


def _processes() -> dict:
    """pid -> (command, parent pid, CPU ticks used so far)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                raw = f.read()
        except OSError:
            continue
        command = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        found[int(entry)] = (command, int(fields[1]), int(fields[11]) + int(fields[12]))
    return found


class LoadSampler(threading.Thread):
    """Samples every few seconds the CPU time of processes outside the benchmark's own tree."""

    def __init__(self, interval: float = 2.0):
        super().__init__(daemon=True)
        self.interval = interval
        self.stopping = threading.Event()
        self.other_seconds: dict = {}   # command -> CPU seconds
        self.load: list = []
        self.started = time.monotonic()
        self.ended = self.started
        self._seen: dict = {}
        self._first = True

    def _sample(self) -> None:
        processes = _processes()
        ours = {os.getpid()}
        changed = True
        while changed:
            changed = False
            for pid, (_, parent, _) in processes.items():
                if parent in ours and pid not in ours:
                    ours.add(pid)
                    changed = True
        for pid, (command, parent, ticks) in processes.items():
            if pid in ours or pid == 2 or parent == 2:   # ourselves, and kernel threads
                continue
            before = self._seen.get(pid)
            used = ticks - before if before is not None else (0 if self._first else ticks)
            if used > 0:
                self.other_seconds[command] = self.other_seconds.get(command, 0) + used / TICKS
            self._seen[pid] = ticks
        self._first = False
        with open("/proc/loadavg") as f:
            self.load.append(float(f.read().split()[0]))

    def run(self) -> None:
        while not self.stopping.is_set():
            self._sample()
            self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()
        self.join()
        self._sample()
        self.ended = time.monotonic()

    def describe(self) -> str:
        wall = max(self.ended - self.started, 1e-9)
        total = sum(self.other_seconds.values())
        top = sorted(self.other_seconds.items(), key=lambda kv: -kv[1])[:5]
        busiest = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in top if seconds >= 1) or "nothing notable"
        load = f"load average {sum(self.load) / len(self.load):.1f} on average, {max(self.load):.1f} at most" if self.load else ""
        return (f"Other processes used {total:.0f} CPU seconds in {wall:.0f} s of wall time "
                f"({total / wall:.2f} of the {os.cpu_count()} cores on average; busiest: {busiest}); {load}.")
