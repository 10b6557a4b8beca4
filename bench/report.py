"""The results as a Markdown table with the targets checked, a PNG chart of the ratios, and the
README's copy of the table."""

import math
import os
import re
import statistics

from cases import CASE_BY_ID, CASES, RSS_BUDGET_MIB, Case
from results import Results
from systems import CLASSES

README_START = "<!-- bench-results:start -->"
README_END = "<!-- bench-results:end -->"


def _number(value: float, unit: str) -> str:
    if unit in ("MiB/s", "MiB"):
        return f"{value:,.0f} {unit}"
    if unit == "ms":
        return f"{value:.1f} ms"
    return f"{value:.3g} s" if value < 100 else f"{value:.0f} s"


def ratio(results: Results, case: Case, system: str) -> float | None:
    """Above 1 is better than the reference, whichever way the case's unit points."""
    value, reference = results.median(case.id, system), results.median(case.id, "reference")
    if value is None or not reference or not value:
        return None
    return value / reference if case.higher_is_better else reference / value


def title(case: Case, sizes: dict) -> str:
    return case.title.format(**sizes)


def reference_label(case: Case, sizes: dict) -> str:
    return case.reference.format(**sizes)


def table(results: Results, systems: list, sizes: dict) -> str:
    labels = [CLASSES[s].label for s in systems]
    lines = ["| Case | Reference | " + " | ".join(labels) + " |",
             "|---|---|" + "---|" * len(systems)]
    for case in CASES:
        if case.id not in results.cases:
            continue  # not run in this mode (the delete case runs over a WAN link only)
        reference = results.median(case.id, "reference")
        ref_cell = f"{reference_label(case, sizes)}: " + (_number(reference, case.unit) if reference is not None else "failed")
        cells = []
        for s in systems:
            value = results.median(case.id, s)
            if value is None:
                error = results.error(case.id, s)
                cells.append("failed" if error else "not run")
                continue
            r = ratio(results, case, s)
            cell = f"{_number(value, case.unit)} ({r:.2f}×)" if r is not None else _number(value, case.unit)
            errors = results.each_errors(case.id, s)
            cells.append(cell + (f", {errors} error{'s' if errors > 1 else ''}" if errors else ""))
        lines.append(f"| {title(case, sizes)} | {ref_cell} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _percentile(values: list, p: float) -> float:
    """Nearest rank: the smallest value with at least p of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def each_table(results: Results, systems: list, sizes: dict) -> str:
    """The "each of N videos" cases in detail: latency per file over every run, errors, and what
    the server served per run (download-endpoint calls, file-URL requests, bytes)."""
    lines = ["| Case | System | Whole pass (median) | Per file: median | p90 | max | Errors | "
             "Download calls per run (POST download + bucket/blob) | File-URL requests per run | MiB served per run |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for case in CASES:
        if case.id not in results.each:
            continue
        for s in systems + ["reference"]:
            passes = results.each[case.id].get(s)
            if not passes:
                continue
            latencies = [t for p in passes for t in p["latencies"]]
            errors = [e for p in passes for e in p["errors"]]
            total = results.median(case.id, s)
            per_run = lambda f: " / ".join(str(f(p["served"])) for p in passes)
            ms = lambda v: f"{v * 1000:.1f} ms"
            lines.append(" | ".join([
                f"| {title(case, sizes)}", CLASSES[s].label if s in CLASSES else reference_label(case, sizes),
                _number(total, "s") if total is not None else "failed",
                ms(statistics.median(latencies)) if latencies else "—",
                ms(_percentile(latencies, 0.9)) if latencies else "—",
                ms(max(latencies)) if latencies else "—",
                f"{len(errors)} of {len(latencies)}" + (f" (e.g. {errors[0][:80]})" if errors else ""),
                per_run(lambda c: f"{c['download']} + {c['download_blob']}"),
                per_run(lambda c: c["file"]),
                per_run(lambda c: f"{c['bytes'] / (1 << 20):.1f}"),
            ]) + " |")
    return "\n".join(lines)


def targets(results: Results, sizes: dict, profile=None, limits: bool = False) -> list:
    """(target, verdict, figures) for each target; verdict is met, MISSED or not measured. Over a
    WAN profile (`profile`, bench/shaper.py) the link's own targets replace the loopback ones
    where they differ. With the server's limits on (`limits`), the sweeps have targets too."""
    m = lambda case, s: results.median(case, s)
    rows = []

    def add(text, values, check, figures):
        if any(v is None for v in values):
            rows.append((text, "not measured", "—"))
        else:
            rows.append((text, "met" if check() else "MISSED", figures()))

    r = lambda case, s: ratio(results, CASE_BY_ID[case], s)
    if profile is None:
        add("Cold sequential read ≥ 0.9 × curl", [r("seq_cold", "mavifs")],
            lambda: r("seq_cold", "mavifs") >= 0.9,
            lambda: f"{r('seq_cold', 'mavifs'):.2f} × curl")
    else:
        link = profile.link_rate / (1 << 20)
        add(f"Cold sequential read ≥ 0.7 × the link ({0.7 * link:.0f} MiB/s) and ≥ 5 × one curl",
            [m("seq_cold", "mavifs"), r("seq_cold", "mavifs")],
            lambda: m("seq_cold", "mavifs") >= 0.7 * link and r("seq_cold", "mavifs") >= 5,
            lambda: f"{m('seq_cold', 'mavifs'):,.0f} MiB/s = {m('seq_cold', 'mavifs') / link:.2f} × the link, "
                    f"{r('seq_cold', 'mavifs'):.2f} × curl")
        add("First 4 KiB cold ≤ 1.2 × a Range GET on a new connection, and ≤ rclone",
            [m("ttfb_cold", "mavifs"), m("ttfb_cold", "reference"), m("ttfb_cold", "rclone")],
            lambda: m("ttfb_cold", "mavifs") <= 1.2 * m("ttfb_cold", "reference")
            and m("ttfb_cold", "mavifs") <= m("ttfb_cold", "rclone"),
            lambda: f"{m('ttfb_cold', 'mavifs'):.1f} ms vs {m('ttfb_cold', 'reference'):.1f} ms (GET) and "
                    f"{m('ttfb_cold', 'rclone'):.1f} ms (rclone)")
    add("Warm read ≥ 0.5 × cat of a local copy", [r("seq_warm", "mavifs")],
        lambda: r("seq_warm", "mavifs") >= 0.5,
        lambda: f"{r('seq_warm', 'mavifs'):.2f} × local cat")
    add("Warm read faster than rclone and httpdirfs",
        [m("seq_warm", "mavifs"), m("seq_warm", "rclone"), m("seq_warm", "httpdirfs")],
        lambda: m("seq_warm", "mavifs") > max(m("seq_warm", "rclone"), m("seq_warm", "httpdirfs")),
        lambda: f"{m('seq_warm', 'mavifs'):,.0f} vs {m('seq_warm', 'rclone') or 0:,.0f} (rclone) and "
                f"{m('seq_warm', 'httpdirfs') or 0:,.0f} MiB/s (httpdirfs)")
    add("ffprobe of moov-at-end, cold, with Range ≤ rclone's time",
        [m("ffprobe_cold", "mavifs"), m("ffprobe_cold", "rclone")],
        lambda: m("ffprobe_cold", "mavifs") <= m("ffprobe_cold", "rclone"),
        lambda: f"{m('ffprobe_cold', 'mavifs'):.3g} s vs {m('ffprobe_cold', 'rclone') or 0:.3g} s")
    add("ffprobe of moov-at-end, cold, without Range ≤ 1.1 × a full curl download",
        [m("ffprobe_cold", "mavifs-no-range"), m("ffprobe_cold", "reference")],
        lambda: m("ffprobe_cold", "mavifs-no-range") <= 1.1 * m("ffprobe_cold", "reference"),
        lambda: f"{m('ffprobe_cold', 'mavifs-no-range'):.3g} s = "
                f"{m('ffprobe_cold', 'mavifs-no-range') / m('ffprobe_cold', 'reference'):.2f} × curl's "
                f"{m('ffprobe_cold', 'reference'):.3g} s")
    add(f"ls -l of {sizes['n']} entries, warm ≤ 0.2 s", [m("ls_warm", "mavifs")],
        lambda: m("ls_warm", "mavifs") <= 0.2,
        lambda: f"{m('ls_warm', 'mavifs'):.3g} s")
    add(f"ls -l of {sizes['n']} entries, cold (mount + ls), faster than rclone and httpdirfs",
        [m("ls_cold", "mavifs"), m("ls_cold", "rclone"), m("ls_cold", "httpdirfs")],
        lambda: m("ls_cold", "mavifs") < min(m("ls_cold", "rclone"), m("ls_cold", "httpdirfs")),
        lambda: f"{m('ls_cold', 'mavifs'):.3g} s vs {m('ls_cold', 'rclone') or 0:.3g} s (rclone) and "
                f"{m('ls_cold', 'httpdirfs') or 0:.3g} s (httpdirfs)")
    calls = results.calls.get("delete_done", {}).get("mavifs")
    add(f"find -delete of {sizes['deletes']} videos: ≤ 3 s until find returns and until the server has them all, ≤ 12 calls",
        [m("delete_rm", "mavifs"), m("delete_done", "mavifs"), calls],
        lambda: m("delete_rm", "mavifs") <= 3 and m("delete_done", "mavifs") <= 3 and max(calls) <= 12,
        lambda: f"find {m('delete_rm', 'mavifs'):.3g} s, server {m('delete_done', 'mavifs'):.3g} s, "
                f"{max(calls)} calls (one call per file: {m('delete_done', 'reference') or 0:.3g} s)")
    if limits:
        rows += sweep_targets(results, sizes, loopback=profile is None)
    for s in ("mavifs", "mavifs-no-range"):
        add(f"Peak RSS reading {sizes['big']} ≤ {RSS_BUDGET_MIB} MiB ({CLASSES[s].label})", [m("rss_4g", s)],
            lambda s=s: m("rss_4g", s) <= RSS_BUDGET_MIB,
            lambda s=s: f"{m('rss_4g', s):.0f} MiB")
    return rows


def sweep_targets(results: Results, sizes: dict, loopback: bool) -> list:
    """The sweeps with the server's limits on: with Range, no read fails and none costs a call to
    the download endpoint (and on loopback the median file takes at most 20 ms); without, no read
    fails and none waits more than one download turn (5 s) and its transfer (1 s allowed)."""
    rows = []
    if loopback:
        passes = results.each.get("small_head", {}).get("mavifs")
        text = f"{title(CASE_BY_ID['small_head'], sizes)}: median file ≤ 20 ms (mavifs, loopback)"
        if passes:
            latencies = sorted(t for p in passes for t in p["latencies"])
            median = latencies[len(latencies) // 2]
            rows.append((text, "met" if median <= 0.020 else "MISSED", f"{median * 1000:.1f} ms"))
        else:
            rows.append((text, "not measured", "—"))
    for case in ("small_head", "small_ffprobe"):
        name = title(CASE_BY_ID[case], sizes)
        for system, check in (("mavifs", "no errors, no download calls"),
                              ("mavifs-no-range", "no errors, none waits over 6 s")):
            passes = results.each.get(case, {}).get(system)
            text = f"{name} ({CLASSES[system].label}): {check}"
            if not passes:
                rows.append((text, "not measured", "—"))
                continue
            errors = sum(len(p["errors"]) for p in passes)
            calls = sum(p["served"]["download"] + p["served"]["download_blob"] for p in passes)
            slowest = max(t for p in passes for t in p["latencies"])
            met = errors == 0 and (calls == 0 if system == "mavifs" else slowest <= 6)
            rows.append((text, "met" if met else "MISSED",
                         f"{errors} errors, {calls} download calls, slowest file {slowest * 1000:,.0f} ms"))
    return rows


def calls_lines(results: Results, sizes: dict) -> list:
    """The delete case's API calls, per run."""
    lines = [f"## Deletes", "", f"find -delete of {sizes['deletes']} videos with the server's limits on "
             "(5 delete_videos calls a second, 100 ids a call); calls per run, as the server counted them:", ""]
    for system, calls in results.calls.get("delete_done", {}).items():
        label = CLASSES[system].label if system in CLASSES else "one call per file"
        lines.append(f"- {label}: {' / '.join(str(c) for c in calls)} calls")
    return lines + [""]


def targets_table(rows: list) -> str:
    lines = ["| Target | Verdict | Figures |", "|---|---|---|"]
    lines += [f"| {t} | {'**MISSED**' if v == 'MISSED' else v} | {f} |" for t, v, f in rows]
    return "\n".join(lines)


def chart(results: Results, systems: list, sizes: dict, path: str, link: str = "") -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"mavifs": "#1f77b4", "mavifs-no-range": "#9ecae1", "rclone": "#ff7f0e", "httpdirfs": "#2ca02c"}
    fig, ax = plt.subplots(figsize=(11, max(7.5, 0.8 * len(CASES) + 0.5)))
    height = 0.8 / len(systems)
    labels = [f"{title(c, sizes)}\nvs {reference_label(c, sizes)}" for c in CASES]
    for i, s in enumerate(systems):
        for j, case in enumerate(CASES):
            r = ratio(results, case, s)
            y = j + (i - (len(systems) - 1) / 2) * height
            if r is None:
                ax.text(0.011, y, "failed" if results.error(case.id, s) else "", va="center", fontsize=7)
                continue
            ax.barh(y, r, height=height, color=colours[s], label=CLASSES[s].label if j == 0 else None)
            ax.text(r * 1.05, y, f"{r:.2f}", va="center", fontsize=7)
    ax.axvline(1, color="black", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlim(0.01, 100)
    ax.set_yticks(range(len(CASES)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("ratio to the reference (log scale; above 1 is better than the reference)")
    ax.set_title("mavifs and its peers against reference tools (medians)" + (f", over {link}" if link else ""))
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def update_readme(readme: str, block: str) -> bool:
    with open(readme) as f:
        text = f.read()
    pattern = re.compile(re.escape(README_START) + ".*?" + re.escape(README_END), re.S)
    if not pattern.search(text):
        return False
    text = pattern.sub(lambda _: f"{README_START}\n{block}\n{README_END}", text)
    with open(readme, "w") as f:
        f.write(text)
    return True
