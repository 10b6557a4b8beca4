"""`mavifs serve` on loopback with the benchmark's library, and what the mounts need from it.

In a WAN mode (BENCH_LINK=wan20|wan75) the server keeps the documented rate limits on and a
shaping proxy (bench/shaper.py) stands in front of it: `endpoint` is the proxy's address, the one
every filesystem and reference uses; `origin` is the server's own, used only for the admin
counters. The server builds the URLs it hands out (video_url, files_url) from the request's Host
header, so URLs asked for through the proxy name the proxy; `check_url` makes sure of it.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass

from config import Config
from procs import BenchError, log_tail
from shaper import ShaperProcess
from videos import VideoFiles

VIDEOS = "default"    # namespace of the large videos
LIBRARY = "library"   # namespace of the many small entries, for the listing cases
SMALL = "small"       # namespace of the N small distinct videos, for the "each of N videos" cases
DELETES = "deletes"   # prefix of the namespaces emptied by the delete case: deletes-0, deletes-1… and deletes-ref


@dataclass
class Video:
    name: str       # video_name
    video_no: str
    size: int
    url: str        # its file URL (Range-capable unless --no-range)
    local: str      # the file it was seeded from, a local copy of the same bytes


class Server:
    """One `mavifs serve` process. The API key stays in the library's key file, never in argv."""

    def __init__(self, config: Config, library: str, log: str):
        self.config = config
        self.library = library
        self.log = log
        self.process: subprocess.Popen | None = None
        self.endpoint = ""    # what clients use: the server's own address, or the shaping proxy's
        self.origin = ""      # the server's own address
        self.shaper: ShaperProcess | None = None

    @property
    def key_file(self) -> str:
        return os.path.join(self.library, "api-key")

    def start(self, *options: str, shaped: bool = True, rate_limits: bool | None = None) -> None:
        """Starts the server (and, in a WAN mode unless shaped is False, the proxy in front of it).
        On loopback the rate limits are off unless rate_limits says otherwise; over a WAN profile
        they are on, as on the real service."""
        limits = [] if (self.config.rate_limits if rate_limits is None else rate_limits) else ["--no-rate-limits"]
        argv = [self.config.mavifs, "serve", "--library", self.library, "--port", "0", *limits, *options]
        env = {k: v for k, v in os.environ.items() if k != "MAVI_API_KEY"}
        with open(self.log, "a") as log:
            offset = log.tell()   # the log is shared by every start: read only this one's lines
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 300   # seeding 10,000 entries comes first
        while time.monotonic() < deadline:
            with open(self.log, "rb") as f:
                f.seek(offset)
                found = re.findall(r"endpoint\s+(http://\S+)", f.read().decode(errors="replace"))
            if found:
                self.origin = self.endpoint = found[-1]
                if self.config.wan and shaped:
                    self._start_shaper()
                return
            if self.process.poll() is not None:
                raise BenchError(f"mavifs serve exited: {log_tail(self.log)}")
            time.sleep(0.05)
        raise BenchError("mavifs serve did not start within 300 s")

    def _start_shaper(self) -> None:
        parts = urllib.parse.urlsplit(self.origin)
        log = os.path.join(os.path.dirname(self.log), "shaper.log")
        try:
            self.shaper = ShaperProcess(self.config.profile, (parts.hostname, parts.port), log).start()
        except RuntimeError as error:
            self.stop()
            raise BenchError(f"{error}: {log_tail(log, 3)}")
        self.endpoint = self.shaper.endpoint

    def stop(self) -> None:
        if self.shaper is not None:
            self.shaper.stop()
            self.shaper = None
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def seed(self, count: int, source: str, name: str, namespace: str) -> None:
        """Seeding happens at start-up, so each kind of video is one short-lived server."""
        try:
            # Without a source, the videos are listed only (enough to delete them).
            origin = ["--seed-source", source] if source else []
            self.start("--seed", str(count), *origin, "--seed-name", name, "--seed-namespace", namespace, shaped=False)
        finally:
            self.stop()

    def _request(self, path: str, body: dict | list | None = None, direct: bool = False) -> object:
        """A JSON request through the clients' endpoint (so the URLs in the reply are the ones a
        client is handed), or straight to the server when direct."""
        headers = {"Content-Type": "application/json"}
        if body is not None:
            with open(self.key_file) as f:
                headers["Authorization"] = f.read().strip()
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request((self.origin if direct else self.endpoint) + path, data=data, headers=headers)
        with urllib.request.urlopen(request, timeout=60) as reply:
            return json.load(reply)

    def check_url(self, url: str) -> str:
        """A URL the server handed out must reach it the way the clients do (through the proxy)."""
        if urllib.parse.urlsplit(url).netloc != urllib.parse.urlsplit(self.endpoint).netloc:
            raise BenchError(f"the server handed out {url}, which does not go through {self.endpoint}")
        return url

    def files_url(self, namespace: str) -> str:
        """The namespace's HTML index of file URLs, which rclone and httpdirfs mount."""
        for entry in self._request("/_admin/namespaces"):
            if entry["unique_id"] == namespace:
                return self.check_url(entry["files_url"])
        raise BenchError(f"namespace {namespace} has no files")

    def stats(self) -> dict:
        """The server's counters (GET /_admin/stats): requests by endpoint, downloads and file
        requests by video, bytes streamed. Asked for directly, so the proxy never counts."""
        return self._request("/_admin/stats", direct=True)

    def _list(self, body: dict) -> dict:
        """One list_videos answer, waiting out 0429s (the list limit, 5 a second, is on in the WAN
        modes, and shared with the mounts)."""
        for _ in range(100):
            reply = self._request("/serve/api/v1/list_videos", body)
            if reply.get("code") == "0429":
                time.sleep(0.2)
                continue
            if reply.get("code") != "0000":
                raise BenchError(f"list_videos: {reply.get('code')} {reply.get('msg')}")
            return reply["data"]
        raise BenchError("list_videos: rate limited for 20 s")

    def count(self, namespace: str) -> int:
        """How many videos the namespace lists (one list call)."""
        return int(self._list({"unique_id": namespace, "page": 1, "size": 1})["total_count"])

    def delete_one_by_one(self, namespace: str) -> int:
        """Deletes every video of the namespace with one delete_videos call each, at the
        endpoint's limit (a 0429 is waited out): what a client without batching does. Returns the
        calls made."""
        calls = 0
        for video in self.videos(namespace):
            while True:
                calls += 1
                reply = self._request(f"/serve/api/v1/delete_videos?unique_id={namespace}", [video["video_no"]])
                if reply.get("code") == "0000":
                    break
                if reply.get("code") != "0429":
                    raise BenchError(f"delete_videos: {reply.get('code')} {reply.get('msg')}")
                time.sleep(0.05)
        return calls

    def videos(self, namespace: str) -> list:
        found, page = [], 1
        while True:
            batch = self._list({"unique_id": namespace, "page": page, "size": 200})["videos"]
            found += batch
            if len(batch) < 200:
                return found
            page += 1


def build_library(config: Config, files: VideoFiles, log: str) -> str:
    """A fresh library: the large videos in one namespace, the listing library in another."""
    library = os.path.join(config.cache, "library")
    shutil.rmtree(library, ignore_errors=True)
    os.makedirs(library)
    seeder = Server(config, library, log)
    seeder.seed(1, files.moov_end, "moov-end", VIDEOS)
    seeder.seed(1, files.faststart, "faststart", VIDEOS)
    seeder.seed(1, files.big, "big", VIDEOS)
    seeder.seed(config.parallel_readers, files.parallel, "parallel", VIDEOS)
    seeder.seed(config.library_size, files.small, "clip", LIBRARY)
    seeder.seed(config.small_videos, files.small, "small", SMALL)
    if config.wan and config.deletes:
        for run in [*map(str, range(config.runs)), "ref"]:
            seeder.seed(config.deletes, "", "doomed", f"{DELETES}-{run}")
    return library


def catalog(server: Server, files: VideoFiles) -> dict:
    """The seeded videos by role: moov_end, faststart, big, parallel (a list)."""
    sources = {"moov-end": files.moov_end, "faststart": files.faststart, "big": files.big, "parallel": files.parallel}
    by_role: dict = {"parallel": []}
    for item in server.videos(VIDEOS):
        prefix = item["video_name"].rsplit("-", 1)[0]
        video = Video(item["video_name"], item["video_no"], int(item["size"]), server.check_url(item["video_url"]),
                      sources[prefix])
        if prefix == "parallel":
            by_role["parallel"].append(video)
        else:
            by_role[prefix.replace("-", "_")] = video
    by_role["parallel"].sort(key=lambda v: v.name)
    by_role["small"] = sorted((Video(item["video_name"], item["video_no"], int(item["size"]),
                                     server.check_url(item["video_url"]), files.small)
                               for item in server.videos(SMALL)), key=lambda v: v.name)
    return by_role


def counted(before: dict, after: dict) -> dict:
    """What the server served between two stats(): download-endpoint calls (POST download by
    video_no, and bucket/blob GETs), file-URL GETs and HEADs, and body bytes streamed."""
    requests = lambda s, e: s.get("requests", {}).get(e, 0)
    return {
        "download": requests(after, "download") - requests(before, "download"),
        "download_blob": requests(after, "download_blob") - requests(before, "download_blob"),
        "file": requests(after, "file") - requests(before, "file"),
        "bytes": after.get("bytes_streamed", 0) - before.get("bytes_streamed", 0),
    }
