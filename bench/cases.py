"""What is measured: each case on each filesystem, and the reference it is compared with.

Cold means the filesystem under test starts from nothing: a new process, an empty cache folder and
a new mount (so the kernel holds no page of its files). The server's own copies stay in memory,
as a CDN's would, unless BENCH_DROP_CACHES=1 (see bench/README.md for why).
"""

import http.client
import json
import os
import random
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass

from config import Config, MiB
from procs import BenchError, drop_caches, log_tail, peak_rss_mib, read_through, run, timed, timed_together
from results import Results
from server import DELETES, LIBRARY, SMALL, VIDEOS, Server, Video, counted
from systems import FileSystem, Mavifs

RSS_BUDGET_MIB = 100
HEAD_BYTES = 16 << 10     # what a file manager reads of each file to sniff its type
EACH_TIMEOUT = 1800       # seconds for one pass over the N small videos (rate limits may pace it)
DOWNLOAD_WINDOW = 61      # the server's download limit is 12 per sliding minute, per key


@dataclass
class Case:
    id: str
    title: str
    unit: str
    higher_is_better: bool
    reference: str


CASES = [
    Case("seq_cold", "Sequential read, {one}, cold", "MiB/s", True, "curl"),
    Case("seq_warm", "Sequential read, {one}, warm", "MiB/s", True, "cat of a local copy"),
    Case("ffprobe_cold", "ffprobe, moov at the end ({one}), cold", "s", False, "curl of the whole file"),
    Case("ttfb_cold", "First 4 KiB (open + read), cold", "ms", False, "HTTP Range GET, new connection"),
    Case("fio_cold", "Random reads, 256 KiB blocks (fio), cold", "MiB/s", True, "HTTP Range GETs, one connection"),
    Case("ls_cold", "Mount + first ls -l, {n} entries", "s", False, "ls -l of a local folder, dentries dropped"),
    Case("ls_warm", "ls -l, {n} entries, warm", "s", False, "ls -l of a local folder, warm"),
    Case("parallel_cold", "{readers} parallel readers of different {parallel} videos, cold", "MiB/s", True, "{readers} parallel curls"),
    Case("small_head", "First 16 KiB of each of {small} small videos, one after another, cold", "s", False,
         "a 16 KiB Range GET of each, a new connection each"),
    Case("small_ffprobe", "ffprobe -show_format of each of {small} small videos, one after another, cold", "s", False,
         "ffprobe of each file URL"),
    Case("rss_4g", "Peak RSS reading a {big} video", "MiB", False, f"the {RSS_BUDGET_MIB} MiB budget"),
    Case("delete_rm", "find -delete of {deletes} videos: until find returns", "s", False, "one delete_videos call per file"),
    Case("delete_done", "find -delete of {deletes} videos: until the server has deleted them all", "s", False,
         "one delete_videos call per file"),
]
CASE_BY_ID = {c.id: c for c in CASES}


def sizes(videos: dict, library_size: int, deletes: int = 0) -> dict:
    """The figures case titles are written with, from the videos actually seeded."""
    size = lambda n: f"{n / (1 << 30):.2f} GiB" if n >= 1 << 30 else f"{n / (1 << 20):.0f} MiB"
    return {"one": size(videos["faststart"].size), "big": size(videos["big"].size), "n": f"{library_size:,}",
            "readers": len(videos["parallel"]), "parallel": size(videos["parallel"][0].size),
            "small": len(videos["small"]), "deletes": f"{deletes:,}"}


class Runner:
    def __init__(self, config: Config, videos: dict, results: Results, server: Server):
        self.config = config
        self.videos = videos
        self.results = results
        self.server = server
        self.runs = config.runs

    # --- helpers ----------------------------------------------------------------------------

    def _cold(self, sources: list) -> None:
        """Just before a cold measurement: the server's copies in memory (or nothing anywhere)."""
        if self.config.drop_caches:
            drop_caches(3)
        else:
            for source in set(sources):
                read_through(source)

    def _fresh(self, fs: FileSystem, namespace: str, paths: list, sources: list) -> None:
        fs.mount(namespace)
        for p in paths:
            os.stat(p)   # the listing is loaded: the measurement is of the data path
        self._cold(sources)

    def _measure(self, case: str, system: str, runs: int, once, fs: FileSystem | None = None) -> None:
        """Runs `once` (which returns one sample) `runs` times; a failure ends the case with its
        message and, when the filesystem's process died, the last words of its log. A case left
        out by BENCH_CASES is not run at all."""
        if self.config.cases and case not in self.config.cases:
            return
        samples = []
        try:
            for _ in range(runs):
                samples.append(once())
        except (BenchError, OSError, subprocess.SubprocessError, ValueError) as error:
            message = f"{type(error).__name__}: {error}"
            if fs is not None and fs.process is not None and fs.process.poll() is not None:
                message += f" ({fs.label} exited with {fs.process.returncode}: {log_tail(fs.log, 2)})"
            self.results.fail(case, system, message, samples)
            print(f"  {case:14} {system}: FAILED {error}", flush=True)
            return
        self.results.add(case, system, samples)
        print(f"  {case:14} {system}: {self.results.summary(case, system)}", flush=True)

    def _each(self, case: str, system: str, videos: list, one, fs: FileSystem | None = None) -> float:
        """One pass of an "each of N videos" case: `one(video)` for each video, one after another,
        each timed. A file that fails is counted as an error, not the end of the pass. Notes each
        file's latency, the errors and what the server served (download-endpoint calls, file-URL
        requests, bytes); returns the whole pass's seconds. A pass that outlasts EACH_TIMEOUT
        (a read stuck in a filesystem) unmounts the filesystem to free it and fails."""
        latencies, errors = [], []
        before = self.server.stats()
        start = time.perf_counter()

        def work():
            for video in videos:
                began = time.perf_counter()
                try:
                    one(video)
                except (BenchError, OSError, subprocess.SubprocessError, ValueError) as error:
                    errors.append(f"{video.video_no}: {type(error).__name__}: {error}")
                latencies.append(time.perf_counter() - began)
        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        worker.join(EACH_TIMEOUT)
        if worker.is_alive():
            if fs is not None:
                fs.unmount()
                worker.join(60)
            raise BenchError(f"{len(latencies)} of {len(videos)} files done after {EACH_TIMEOUT} s")
        elapsed = time.perf_counter() - start
        served = counted(before, self.server.stats())
        self.results.note_each(case, system, latencies, errors, served)
        if len(errors) == len(videos):
            raise BenchError(f"every file failed, e.g. {errors[0]}")
        return elapsed

    # --- one filesystem ------------------------------------------------------------------------

    def filesystem(self, fs: FileSystem, key: str) -> None:
        print(f"bench: {fs.label}", flush=True)
        one = self.videos["faststart"]
        path = fs.path

        def seq_cold():
            self._fresh(fs, VIDEOS, [path(one)], [one.local])
            return one.size / MiB / timed(["cat", path(one)], 900)
        self._measure("seq_cold", key, self.runs, seq_cold, fs)

        # The last cold read left the whole video in the filesystem's cache.
        if self.results.ok("seq_cold", key):
            self._measure("seq_warm", key, self.runs, lambda: one.size / MiB / timed(["cat", path(one)], 900), fs)
            try:
                run(["cmp", path(one), one.local], 900)
                self.results.note_verified(key, True)
            except BenchError as error:
                self.results.note_verified(key, False, str(error))

        moov = self.videos["moov_end"]

        def ffprobe():
            self._fresh(fs, VIDEOS, [path(moov)], [moov.local])
            return timed(["ffprobe", "-v", "error", "-show_format", "-show_streams", path(moov)], 900)
        self._measure("ffprobe_cold", key, self.runs, ffprobe, fs)

        def first_bytes():
            self._fresh(fs, VIDEOS, [path(one)], [one.local])
            start = time.perf_counter()
            fd = os.open(path(one), os.O_RDONLY | os.O_CLOEXEC)
            try:
                data = os.read(fd, 4096)
            finally:
                os.close(fd)
            elapsed = time.perf_counter() - start
            with open(one.local, "rb") as f:
                if data != f.read(4096):
                    raise BenchError("the first 4 KiB differ from the video's")
            return elapsed * 1000
        self._measure("ttfb_cold", key, self.runs, first_bytes, fs)

        def random_reads():
            self._fresh(fs, VIDEOS, [path(one)], [one.local])
            return fio_random_read(path(one), self.config.fio_io_size)
        self._measure("fio_cold", key, self.runs, random_reads, fs)

        readers = self.videos["parallel"]

        def parallel():
            self._fresh(fs, VIDEOS, [path(v) for v in readers], [v.local for v in readers])
            elapsed = timed_together([["cat", path(v)] for v in readers], 900)
            return sum(v.size for v in readers) / MiB / elapsed
        self._measure("parallel_cold", key, self.runs, parallel, fs)

        self._small(fs, key)
        self._listing(fs, key)

        big = self.videos["big"]

        def peak_rss():
            self._fresh(fs, VIDEOS, [path(big)], [big.local])
            elapsed = timed(["cat", path(big)], 1800)
            self.results.note_big_read(key, big.size / MiB / elapsed)
            return peak_rss_mib(fs.pid)
        self._measure("rss_4g", key, 1, peak_rss, fs)
        fs.clear()

    def _small(self, fs: FileSystem, key: str) -> None:
        """What a file manager does to a folder of videos: the first bytes of each, then ffprobe."""
        small = self.videos["small"]
        path = fs.path
        with open(small[0].local, "rb") as f:
            head = f.read(HEAD_BYTES)

        def read_head(video):
            fd = os.open(path(video), os.O_RDONLY | os.O_CLOEXEC)
            try:
                data = b""
                while len(data) < HEAD_BYTES:
                    chunk = os.read(fd, HEAD_BYTES - len(data))
                    if not chunk:
                        break
                    data += chunk
            finally:
                os.close(fd)
            if data != head[:len(data)] or len(data) < min(HEAD_BYTES, video.size):
                raise BenchError(f"the first {len(data)} bytes differ from the video's")

        def settle():
            """With the limits on (a WAN profile, or BENCH_RATE_LIMITS), downloads by video_no are 12 a sliding minute per
            key, so what an earlier mount spent would tax this pass: each pass starts when the
            server's window holds none, so that every pass (and run) starts with the same allowance."""
            if self.config.rate_limits and isinstance(fs, Mavifs):
                fs.unmount()
                print(f"  (waiting {DOWNLOAD_WINDOW} s for the server's download window to empty)", flush=True)
                time.sleep(DOWNLOAD_WINDOW)

        def heads():
            settle()
            self._fresh(fs, SMALL, [path(v) for v in small], [small[0].local])
            return self._each("small_head", key, small, read_head, fs)
        self._measure("small_head", key, self.runs, heads, fs)

        def probes():
            settle()
            self._fresh(fs, SMALL, [path(v) for v in small], [small[0].local])
            return self._each("small_ffprobe", key, small,
                              lambda v: run(["ffprobe", "-v", "error", "-show_format", path(v)], 300), fs)
        self._measure("small_ffprobe", key, self.runs, probes, fs)
        fs.clear()

    def deletes(self, fs: Mavifs, key: str) -> None:
        """`find -delete` over a folder of N videos with the server's limits on (5 delete calls a
        second, 100 ids a call): until find returns, and until the server lists none of them. Each
        run empties a namespace of its own."""
        count = self.config.deletes
        runs = iter(range(self.runs))

        def once(which: str):
            namespace = f"{DELETES}-{next(runs)}"
            fs.allow_delete = True
            try:
                fs.mount(namespace)
                listed = run(["ls", fs.listing_dir()], 300, stdout=subprocess.PIPE)
                videos = [line for line in listed.stdout.splitlines() if not line.endswith(b".srt")]
                if len(videos) != count:
                    raise BenchError(f"{namespace} lists {len(videos)} of {count} videos")
                before = self.server.stats()
                start = time.perf_counter()
                # Subtitle sidecars go with their videos and cannot be removed alone.
                run(["find", fs.listing_dir(), "-type", "f", "!", "-name", "*.srt", "-delete"], 600)
                returned = time.perf_counter() - start
                deadline = time.monotonic() + 300
                while self.server.count(namespace) > 0:
                    if time.monotonic() > deadline:
                        raise BenchError("the server still lists videos 300 s after find returned")
                    time.sleep(0.02)
                done = time.perf_counter() - start
                calls = self.server.stats()["requests"].get("delete_videos", 0) - before["requests"].get("delete_videos", 0)
                self.results.note_calls("delete_done", key, calls)
                samples[which].append(done)
                return returned
            finally:
                fs.allow_delete = False
                fs.clear()

        samples = {"done": []}
        self._measure("delete_rm", key, self.runs, lambda: once("done"), fs)
        if samples["done"]:
            self.results.add("delete_done", key, samples["done"])
            print(f"  {'delete_done':14} {key}: {self.results.summary('delete_done', key)}", flush=True)

    def delete_references(self) -> None:
        """The same deletes made one call per file, paced by the server's limit (one run: its time
        is set by the limit alone)."""
        namespace = f"{DELETES}-ref"

        def one_by_one():
            start = time.perf_counter()
            calls = self.server.delete_one_by_one(namespace)
            self.results.note_calls("delete_done", "reference", calls)
            return time.perf_counter() - start
        self._measure("delete_done", "reference", 1, one_by_one)
        if self.results.ok("delete_done", "reference"):
            self.results.add("delete_rm", "reference", self.results.cases["delete_done"]["reference"]["samples"])

    def _listing(self, fs: FileSystem, key: str) -> None:
        expected = self.config.library_size

        def mount_and_list():
            fs.clear()
            start = time.perf_counter()
            fs.mount(LIBRARY)
            listed = run(["ls", "-l", "--color=never", fs.listing_dir()], 900, stdout=subprocess.PIPE)
            elapsed = time.perf_counter() - start
            # Less the "total" line, and the subtitle sidecars (NAME.srt) beside processed videos.
            entries = sum(1 for line in listed.stdout.splitlines()[1:] if not line.endswith(b".srt"))
            if entries != expected:
                raise BenchError(f"listed {entries} of {expected} entries")
            return elapsed
        self._measure("ls_cold", key, self.runs, mount_and_list, fs)
        if self.results.ok("ls_cold", key):
            self._measure("ls_warm", key, self.runs,
                          lambda: timed(["ls", "-l", "--color=never", fs.listing_dir()], 900), fs)
        fs.clear()

    # --- references ---------------------------------------------------------------------------

    def references(self, local_listing: str) -> None:
        print("bench: references", flush=True)
        one, moov, readers = self.videos["faststart"], self.videos["moov_end"], self.videos["parallel"]
        curl = ["curl", "--silent", "--fail", "--output", "/dev/null"]

        def curl_whole():
            self._cold([one.local])
            return one.size / MiB / timed(curl + [one.url], 900)
        self._measure("seq_cold", "reference", self.runs, curl_whole)

        read_through(one.local)
        self._measure("seq_warm", "reference", self.runs, lambda: one.size / MiB / timed(["cat", one.local], 900))

        def curl_moov():
            self._cold([moov.local])
            return timed(curl + [moov.url], 900)
        self._measure("ffprobe_cold", "reference", self.runs, curl_moov)

        def first_bytes():
            self._cold([one.local])
            return http_range_get(one.url, [(0, 4096)]) * 1000
        self._measure("ttfb_cold", "reference", self.runs, first_bytes)

        def range_reads():
            self._cold([one.local])
            block, count = 256 << 10, self.config.fio_io_size // (256 << 10)
            picker = random.Random(1)
            ranges = [(picker.randrange(one.size // block) * block, block) for _ in range(count)]
            return count * block / MiB / http_range_get(one.url, ranges)
        self._measure("fio_cold", "reference", self.runs, range_reads)

        def local_cold():
            drop_caches(2)
            return timed(["ls", "-l", "--color=never", local_listing], 900)
        self._measure("ls_cold", "reference", self.runs, local_cold)
        self._measure("ls_warm", "reference", self.runs,
                      lambda: timed(["ls", "-l", "--color=never", local_listing], 900))

        def curls():
            self._cold([v.local for v in readers])
            elapsed = timed_together([curl + [v.url] for v in readers], 900)
            return sum(v.size for v in readers) / MiB / elapsed
        self._measure("parallel_cold", "reference", self.runs, curls)
        self._small_references()
        self.results.add("rss_4g", "reference", [RSS_BUDGET_MIB])

    def _small_references(self) -> None:
        small = self.videos["small"]

        def heads():
            self._cold([small[0].local])
            return self._each("small_head", "reference", small, lambda v: http_range_get(v.url, [(0, HEAD_BYTES)]))
        self._measure("small_head", "reference", self.runs, heads)

        def probes():
            self._cold([small[0].local])
            return self._each("small_ffprobe", "reference", small,
                              lambda v: run(["ffprobe", "-v", "error", "-show_format", v.url], 300))
        self._measure("small_ffprobe", "reference", self.runs, probes)


def fio_random_read(path: str, io_size: int) -> float:
    """fio's random-read bandwidth in MiB/s: one job, 256 KiB reads, the same offsets every time."""
    argv = ["fio", "--name=randread", f"--filename={path}", "--readonly", "--rw=randread", "--bs=256k",
            "--ioengine=psync", f"--io_size={io_size}", "--randrepeat=1", "--runtime=300",
            "--output-format=json"]
    done = run(argv, 400, stdout=subprocess.PIPE)
    job = json.loads(done.stdout)["jobs"][0]
    if job.get("error"):
        raise BenchError(f"fio error {job['error']}")
    read = job["read"]
    if read["io_bytes"] < io_size:
        raise BenchError(f"fio read {read['io_bytes']} of {io_size} bytes")
    return read["bw_bytes"] / MiB


def http_range_get(url: str, ranges: list) -> float:
    """Seconds to fetch byte ranges one after another over one new keep-alive connection."""
    parts = urllib.parse.urlsplit(url)
    start = time.perf_counter()
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        for offset, length in ranges:
            connection.request("GET", parts.path, headers={"Range": f"bytes={offset}-{offset + length - 1}"})
            reply = connection.getresponse()
            body = reply.read()
            if reply.status != 206 or len(body) != length:
                raise BenchError(f"Range GET answered {reply.status} with {len(body)} bytes")
    finally:
        connection.close()
    return time.perf_counter() - start
