"""The benchmark's videos, generated once with ffmpeg and kept between runs.

A short clip of noisy test pattern (hard to compress, so about 9 MB a second) is looped with
`-c copy` into the large videos, which takes seconds instead of minutes of encoding.
"""

import json
import os
import subprocess
from dataclasses import dataclass

from config import Config


@dataclass
class VideoFiles:
    moov_end: str    # 1 GiB, moov atom after the media data (ffmpeg's default)
    faststart: str   # 1 GiB, moov atom first
    big: str         # 4 GiB
    parallel: str    # one medium video, seeded as eight different videos
    small: str       # the file every entry of the listing library shares


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True)


def _loop(clip: str, loops: int, out: str, *extra: str) -> None:
    tmp = out + ".part.mp4"
    _ffmpeg("-stream_loop", str(loops), "-i", clip, "-c", "copy", *extra, tmp)
    os.replace(tmp, out)


def prepare(config: Config) -> VideoFiles:
    folder = os.path.join(config.cache, "videos-quick" if config.quick else "videos")
    os.makedirs(folder, exist_ok=True)
    files = VideoFiles(*(os.path.join(folder, n) for n in
                         ("moov-end.mp4", "faststart.mp4", "big.mp4", "parallel.mp4", "small.mp4")))
    recipe = {"clip_seconds": config.clip_seconds, "loops_1g": config.loops_1g, "loops_4g": config.loops_4g,
              "loops_parallel": config.loops_parallel, "version": 1}
    marker = os.path.join(folder, "recipe.json")
    try:
        with open(marker) as f:
            if json.load(f) == recipe and all(os.path.exists(p) for p in vars(files).values()):
                return files
    except (OSError, ValueError):
        pass

    print(f"bench: generating videos in {folder}", flush=True)
    clip = os.path.join(folder, "clip.mp4")
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30,noise=alls=60:allf=t",
            "-t", str(config.clip_seconds), "-c:v", "mpeg4", "-q:v", "2", "-pix_fmt", "yuv420p", clip)
    _loop(clip, config.loops_1g, files.moov_end)
    _loop(clip, config.loops_1g, files.faststart, "-movflags", "+faststart")
    _loop(clip, config.loops_4g, files.big)
    _loop(clip, config.loops_parallel, files.parallel)
    tmp = files.small + ".part.mp4"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "2", "-c:v", "mpeg4", "-q:v", "5", tmp)
    os.replace(tmp, files.small)
    os.remove(clip)
    with open(marker, "w") as f:
        json.dump(recipe, f)
    return files
