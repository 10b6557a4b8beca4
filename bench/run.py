#!/usr/bin/env python3
"""Runs the benchmark (start it with scripts/bench, which installs the tools and builds mavifs)."""

import datetime
import json
import os
import signal
import subprocess
import sys
import time

import report
import videos as video_files
from cases import CASES, Runner, sizes as case_sizes
from config import ALL_SYSTEMS, Config, from_environment
from load import LoadSampler
from results import Results
from server import Server, build_library, catalog
from systems import CLASSES


def first_line(argv: list) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        return (done.stdout or done.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "unknown"


def machine(config: Config) -> list:
    with open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "unknown CPU")
    with open("/proc/meminfo") as f:
        memory = int(f.readline().split()[1]) / (1 << 20)
    # The run itself writes its results and the README's table: only other changes make it dirty.
    commit = first_line(["git", "-C", config.root, "describe", "--always"])
    changes = subprocess.run(["git", "-C", config.root, "status", "--porcelain", "--", ".", ":!bench/results", ":!README.md"],
                             capture_output=True, text=True).stdout.strip()
    if changes:
        commit += "-dirty"
    packages = ", ".join(f"{p} {first_line(['dpkg-query', '-W', '-f=${Version}', p])}"
                         for p in ("rclone", "httpdirfs", "curl", "fio", "ffmpeg", "fuse3"))
    return [
        f"Machine: {cpu}, {os.cpu_count()} cores, {memory:.0f} GiB of memory, Linux {os.uname().release}",
        f"mavifs {commit} ({os.path.relpath(config.mavifs, config.root)}); Debian packages: {packages}",
    ]


def local_listing(config: Config) -> str:
    """A local folder with as many (empty) files as the listing library, for the ls reference."""
    folder = os.path.join(config.cache, f"local-listing-{config.library_size}")
    if not os.path.isdir(folder) or len(os.listdir(folder)) != config.library_size:
        os.makedirs(folder, exist_ok=True)
        for i in range(config.library_size):
            open(os.path.join(folder, f"clip-{i:06d}.mp4"), "a").close()
    return folder


def describe_sizes(found: dict) -> str:
    gib = lambda v: v.size / (1 << 30)
    return (f"Videos: moov at the end {gib(found['moov_end']):.2f} GiB, faststart {gib(found['faststart']):.2f} GiB, "
            f"large {gib(found['big']):.2f} GiB, {len(found['parallel'])} parallel-read videos of "
            f"{found['parallel'][0].size / (1 << 20):.0f} MiB, {len(found['small'])} small videos of "
            f"{found['small'][0].size / 1024:.0f} KiB")


def describe_link(config: Config) -> str:
    if not config.wan and config.rate_limits:
        return ("Link: loopback, straight to `mavifs serve` with its documented rate limits on; mavifs paces itself")
    if not config.wan:
        return ("Link: loopback, straight to `mavifs serve --no-rate-limits`; mavifs mounted with --no-pacing")
    return (f"Link: the shaping proxy (bench/shaper.py), profile {config.profile.describe()}; every filesystem and "
            f"reference goes through it. The server enforces the documented rate limits; mavifs paces itself")


def _interrupt(signum, frame):
    """SIGTERM ends the run as Ctrl-C does: through the cleanup that unmounts and stops the server."""
    raise KeyboardInterrupt


def main() -> int:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    config = from_environment(root)
    if os.geteuid() != 0:
        sys.exit("bench: run as root (it mounts filesystems and drops caches)")
    if not os.path.exists(config.mavifs):
        sys.exit(f"bench: no mavifs binary at {config.mavifs} (scripts/bench builds it)")
    unknown = config.cases - {case.id for case in CASES}
    if unknown:
        sys.exit(f"bench: BENCH_CASES names unknown cases {sorted(unknown)}; known: {[case.id for case in CASES]}")
    signal.signal(signal.SIGTERM, _interrupt)
    if os.environ.get("BENCH_MODE", "") == "library":
        import library
        return library.main(config, machine(config))

    started = time.monotonic()
    sampler = LoadSampler()
    sampler.start()
    logs = os.path.join(config.cache, "logs")
    os.makedirs(logs, exist_ok=True)
    for old in os.listdir(logs):
        os.remove(os.path.join(logs, old))
    files = video_files.prepare(config)
    listing = local_listing(config)
    server_log = os.path.join(logs, "server.log")
    print(f"bench: {describe_link(config)}", flush=True)
    print(f"bench: seeding the library ({config.library_size:,} entries)", flush=True)
    library = build_library(config, files, server_log)
    server = Server(config, library, server_log)
    mounted = []
    results = Results()
    try:
        server.start()
        found = catalog(server, files)
        runner = Runner(config, found, results, server)
        for key in [s for s in config.systems if s != "mavifs-no-range"]:
            fs = CLASSES[key](config, server, os.path.join(config.cache, "fs", key))
            fs.log = os.path.join(logs, f"{key}.log")
            mounted.append(fs)
            runner.filesystem(fs, key)
            if key == "mavifs" and config.wan and config.deletes:
                runner.deletes(fs, key)
        runner.references(listing)
        if config.wan and config.deletes and "mavifs" in config.systems:
            runner.delete_references()
        if "mavifs-no-range" in config.systems:
            server.stop()
            server.start("--no-range")
            fs = CLASSES["mavifs-no-range"](config, server, os.path.join(config.cache, "fs", "mavifs-no-range"))
            fs.log = os.path.join(logs, "mavifs-no-range.log")
            mounted.append(fs)
            runner.filesystem(fs, "mavifs-no-range")
    finally:
        for fs in mounted:
            fs.clear()
        server.stop()
        sampler.stop()
    elapsed = time.monotonic() - started

    date = datetime.date.today().isoformat()
    os.makedirs(config.results_dir, exist_ok=True)
    base = os.path.join(config.results_dir, config.results_name(date))
    systems = [s for s in ALL_SYSTEMS if s in config.systems]
    sizes = case_sizes(found, config.library_size, config.deletes)
    main_table = report.table(results, systems, sizes)
    target_rows = report.targets(results, sizes, config.profile if config.wan else None, config.rate_limits)
    report.chart(results, systems, sizes, base + ".png", config.link if config.wan else "")
    with open(base + ".json", "w") as f:
        link = {"name": config.link, **(vars(config.profile) if config.wan else {})}
        json.dump({"date": date, "runs": config.runs, "quick": config.quick, "link": link, **results.as_json()}, f, indent=1)

    verified = "; ".join(f"{CLASSES[s].label} {'matched' if ok else 'DIFFERED: ' + msg}"
                         for s, (ok, msg) in results.verified.items())
    big_reads = "; ".join(f"{CLASSES[s].label} {v:,.0f} MiB/s" for s, v in results.big_read.items())
    failures = [f"- {report.title(c, sizes)}, {CLASSES[s].label if s in CLASSES else s}: "
                f"{results.error(c.id, s)}" for c in CASES for s in systems + ["reference"]
                if results.error(c.id, s)]
    document = "\n".join([
        f"# Benchmark results, {date}{f', {config.link}' if config.wan else ''}"
        f"{', loopback with the rate limits on' if config.limits_on_loopback and not config.wan else ''}"
        f"{' (quick mode: small sizes)' if config.quick else ''}",
        "",
        *[f"- {line}" for line in machine(config)],
        f"- {describe_link(config)}",
        f"- {describe_sizes(found)}; listing library of {config.library_size:,} entries",
        f"- Each case run {config.runs} times, median shown (peak RSS: one run); the whole run took "
        f"{elapsed / 60:.1f} minutes",
        f"- {sampler.describe()}",
        f"- Cold: {'the whole page cache dropped before each run' if config.drop_caches else 'a new filesystem process with an empty cache folder on a new mount; the server’s copies stay in memory, like a CDN’s'}",
        "",
        "Ratios in brackets compare with the row's reference, so that above 1 is always better than the "
        "reference: the system's figure divided by the reference's for throughputs, the reference's "
        "divided by the system's for times and memory.",
        "",
        main_table,
        "",
        "## Targets (mavifs)",
        "",
        report.targets_table(target_rows),
        "",
        f"## Each of {len(found['small'])} small videos",
        "",
        "One after another through the mount, as a file manager does; the server's counters say how many "
        "downloads each pass cost (runs separated by /).",
        "",
        report.each_table(results, systems, sizes),
        "",
        *(report.calls_lines(results, sizes) if results.calls else []),
        "## Notes",
        "",
        f"- Bytes read through each filesystem compared with the source (cmp, 1 GiB): {verified or 'not checked'}",
        f"- Throughput of the 4 GiB read during the RSS case (one run): {big_reads or 'not measured'}",
        *(["- Failures:"] + ["  " + line for line in failures] if failures else []),
        "",
        f"![ratios]({os.path.basename(base)}.png)",
        "",
    ])
    with open(base + ".md", "w") as f:
        f.write(document)

    print()
    print(main_table)
    print()
    print(report.targets_table(target_rows))
    print()
    print(report.each_table(results, systems, sizes))
    print(f"\nbench: {base}.md, {base}.png ({elapsed / 60:.1f} minutes)")

    if config.update_readme:
        relative = os.path.relpath(base, root)
        block = "\n".join([f"Latest run ({date}, full results in [{relative}.md]({relative}.md)):", "",
                           main_table, "", report.targets_table(target_rows)])
        if not report.update_readme(os.path.join(root, "README.md"), block):
            print("bench: README.md has no results markers; not updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
