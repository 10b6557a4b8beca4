"""The filesystems under test: how each is mounted on the library, and where a video appears in it.

Each runs in the foreground as a child of the benchmark, so its process is the filesystem (its
peak RSS is the filesystem's) and stopping it is unmount + wait. Each is pointed at
`server.endpoint`, which in a WAN mode is the shaping proxy.
"""

import os
import shutil
import subprocess

from config import Config
from procs import unmount, wait_until_mounted
from server import Server, Video


class FileSystem:
    label = ""

    def __init__(self, config: Config, server: Server, work: str):
        self.config = config
        self.server = server
        self.mountpoint = os.path.join(work, "mnt")
        self.cache_dir = os.path.join(work, "cache")
        self.log = os.path.join(work, "fs.log")
        self.process: subprocess.Popen | None = None
        self.namespace = ""
        self.mount_timeout = 180.0   # seconds until the mount must be there

    def argv(self, namespace: str) -> list:
        raise NotImplementedError

    def path(self, video: Video) -> str:
        raise NotImplementedError

    def listing_dir(self) -> str:
        """The folder that lists every video of the mounted namespace."""
        return self.mountpoint

    def mount(self, namespace: str, fresh: bool = True) -> None:
        """A fresh process with an empty cache: nothing of a previous mount is left to help it
        (unless fresh is False: the cache folder the last mount left stays)."""
        self.unmount()
        if fresh:
            shutil.rmtree(self.cache_dir, ignore_errors=True)
        os.makedirs(self.cache_dir, exist_ok=True)
        os.makedirs(self.mountpoint, exist_ok=True)
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(self.argv(namespace), stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
        self.namespace = namespace
        wait_until_mounted(self.mountpoint, self.process, self.log, self.mount_timeout)

    def unmount(self) -> None:
        unmount(self.mountpoint, self.process)
        self.process = None

    def clear(self) -> None:
        self.unmount()
        shutil.rmtree(self.cache_dir, ignore_errors=True)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid


class Mavifs(FileSystem):
    label = "mavifs"
    allow_delete = False   # the delete case mounts with --allow-delete

    def argv(self, namespace: str) -> list:
        # Where the server enforces the documented limits (over a WAN profile, or on loopback with
        # BENCH_RATE_LIMITS), mavifs paces itself, as it does against the real service.
        pacing = ["--pacing"] if self.config.rate_limits else ["--no-pacing"]
        return [self.config.mavifs, "mount", self.mountpoint, "--endpoint", self.server.endpoint,
                "--namespace", namespace, "--api-key-file", self.server.key_file, *pacing,
                "--cache-dir", self.cache_dir, "--cache-max-size", "8G", "-f", *(["--allow-delete"] if self.allow_delete else []),
                *self.config.mavifs_args]

    def path(self, video: Video) -> str:
        return os.path.join(self.mountpoint, "by-id", f"{video.video_no}.mp4")

    def listing_dir(self) -> str:
        return os.path.join(self.mountpoint, "all")


class MavifsNoRange(Mavifs):
    """mavifs against a server started with --no-range: only the sequential download stream."""
    label = "mavifs (no Range)"


class Rclone(FileSystem):
    label = "rclone"

    def argv(self, namespace: str) -> list:
        # :http: needs no config file; pointing at one that does not exist keeps ~/.config out of it.
        return ["rclone", "mount", ":http:", self.mountpoint, "--http-url", self.server.files_url(namespace),
                "--vfs-cache-mode", "full", "--cache-dir", self.cache_dir, "--read-only",
                "--config", os.path.join(self.cache_dir, "no-rclone.conf")]

    def path(self, video: Video) -> str:
        return os.path.join(self.mountpoint, f"{video.video_no}.mp4")


class Httpdirfs(FileSystem):
    label = "httpdirfs"

    def argv(self, namespace: str) -> list:
        return ["httpdirfs", "-f", "--cache", "--cache-location", self.cache_dir,
                self.server.files_url(namespace), self.mountpoint]

    def path(self, video: Video) -> str:
        return os.path.join(self.mountpoint, f"{video.video_no}.mp4")


CLASSES = {"mavifs": Mavifs, "rclone": Rclone, "httpdirfs": Httpdirfs, "mavifs-no-range": MavifsNoRange}
