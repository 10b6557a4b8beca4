"""Settings of one benchmark run, from the environment (see scripts/bench)."""

import os
import shlex
from dataclasses import dataclass, field

from shaper import PROFILES, Profile

MiB = 1 << 20
GiB = 1 << 30

# In the order of the table's columns. mavifs-no-range runs last, against a server restarted with --no-range.
ALL_SYSTEMS = ["mavifs", "mavifs-no-range", "rclone", "httpdirfs"]

# BENCH_LINK: loopback, or one of the shaping proxy's WAN profiles (bench/shaper.py).
LINKS = ["loopback", *sorted(PROFILES)]


@dataclass
class Config:
    root: str                 # the repository
    mavifs: str               # the mavifs binary (release build)
    quick: bool
    runs: int
    library_size: int         # entries of the listing view
    systems: list = field(default_factory=list)
    drop_caches: bool = False
    update_readme: bool = True
    link: str = "loopback"    # BENCH_LINK
    small_videos: int = 30    # BENCH_SMALL_VIDEOS: the "each of N small videos" cases
    deletes: int = 1000       # BENCH_DELETES: videos removed by find -delete (WAN modes, limits on); 0 skips
    cases: set = field(default_factory=set)  # BENCH_CASES: only these case ids (empty: all)
    mavifs_args: list = field(default_factory=list)  # BENCH_MAVIFS_ARGS: more options of mavifs mount
    limits_on_loopback: bool = False  # BENCH_RATE_LIMITS=1: the server's limits on over loopback too

    # Sizes of the generated videos: each is a short high-bitrate clip looped with -c copy.
    clip_seconds: int = 10    # the clip looped into the large videos (about 9 MB a second)
    loops_1g: int = 11        # 12 clips: 1.02 GiB
    loops_4g: int = 46        # 47 clips: 4.0 GiB
    loops_parallel: int = 0   # the clip itself: 87 MiB, seeded as eight videos
    fio_io_size: int = 128 * MiB
    parallel_readers: int = 8

    @property
    def cache(self) -> str:
        """Generated videos, the server's library and the filesystems' caches (gitignored)."""
        return os.path.join(self.root, "bench", ".cache")

    @property
    def profile(self) -> Profile | None:
        """The WAN profile every client's traffic is shaped with; None on loopback."""
        return PROFILES.get(self.link)

    @property
    def wan(self) -> bool:
        return self.profile is not None

    @property
    def rate_limits(self) -> bool:
        """Whether the server enforces the documented limits: always over a WAN profile, as the
        real service does, and on loopback when asked for."""
        return self.wan or self.limits_on_loopback

    def results_name(self, date: str) -> str:
        """bench/results/<date>.md on loopback (<date>-limits.md with the limits on),
        <date>-<profile>.md over a WAN profile."""
        if self.wan:
            return f"{date}-{self.link}"
        return f"{date}-limits" if self.limits_on_loopback else date

    @property
    def results_dir(self) -> str:
        if self.quick:
            return os.path.join(self.cache, "results-quick")
        return os.path.join(self.root, "bench", "results")


def from_environment(root: str) -> Config:
    quick = os.environ.get("BENCH_QUICK", "0") not in ("", "0")
    runs = int(os.environ.get("BENCH_RUNS", "2" if quick else "3"))
    if runs < 1:
        raise SystemExit("BENCH_RUNS must be at least 1")
    library_size = int(os.environ.get("BENCH_LIBRARY_SIZE", "500" if quick else "10000"))
    systems = [s.strip() for s in os.environ.get("BENCH_SYSTEMS", ",".join(ALL_SYSTEMS)).split(",") if s.strip()]
    unknown = [s for s in systems if s not in ALL_SYSTEMS]
    if unknown:
        raise SystemExit(f"BENCH_SYSTEMS: unknown {unknown}; known: {ALL_SYSTEMS}")
    link = os.environ.get("BENCH_LINK", "loopback").strip() or "loopback"
    if link not in LINKS:
        raise SystemExit(f"BENCH_LINK: unknown {link!r}; known: {LINKS}")
    small_videos = int(os.environ.get("BENCH_SMALL_VIDEOS", "30"))
    deletes = int(os.environ.get("BENCH_DELETES", "1000"))
    if small_videos < 1:
        raise SystemExit("BENCH_SMALL_VIDEOS must be at least 1")
    cases = {c.strip() for c in os.environ.get("BENCH_CASES", "").split(",") if c.strip()}
    binary = os.environ.get("MAVIFS_BINARY") or os.path.join(root, ".build", "release", "mavifs")
    config = Config(
        root=root, mavifs=binary, quick=quick, runs=runs, library_size=library_size, systems=systems,
        drop_caches=os.environ.get("BENCH_DROP_CACHES", "0") not in ("", "0"),
        # A WAN run has its own results file and leaves the README's (loopback) table alone.
        update_readme=not quick and link == "loopback" and os.environ.get("BENCH_RATE_LIMITS", "0") in ("", "0") and os.environ.get("BENCH_UPDATE_README", "1") not in ("", "0"),
        link=link, small_videos=small_videos, deletes=max(0, deletes), cases=cases,
        mavifs_args=shlex.split(os.environ.get("BENCH_MAVIFS_ARGS", "")),
        limits_on_loopback=os.environ.get("BENCH_RATE_LIMITS", "0") not in ("", "0"))
    if quick:
        # Same shapes, a tenth of the bytes: 2-second clips (about 18 MB).
        config.clip_seconds = 2
        config.loops_1g = 3
        config.loops_4g = 11
        config.fio_io_size = 16 * MiB
    return config
