"""Processes, mounts and timing: the small tools every case uses."""

import os
import signal
import subprocess
import time


class BenchError(Exception):
    """A step failed; the case records the message instead of a figure."""


def log_tail(path: str, lines: int = 8) -> str:
    try:
        with open(path, errors="replace") as f:
            return " | ".join(line.strip() for line in f.readlines()[-lines:])
    except OSError:
        return ""


def run(argv: list, timeout: float, stdout=subprocess.DEVNULL) -> subprocess.CompletedProcess:
    """Runs a command to completion; a failure or timeout raises BenchError with its stderr."""
    try:
        done = subprocess.run(argv, stdout=stdout, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{os.path.basename(argv[0])} took more than {timeout:.0f} s")
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        raise BenchError(f"{os.path.basename(argv[0])} failed: {message[0]}")
    return done


def timed(argv: list, timeout: float) -> float:
    """Wall-clock seconds of one command, output discarded."""
    start = time.perf_counter()
    run(argv, timeout)
    return time.perf_counter() - start


def timed_together(commands: list, timeout: float) -> float:
    """Wall-clock seconds until every one of several commands started at once has finished."""
    start = time.perf_counter()
    children = [subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for argv in commands]
    deadline = start + timeout
    failures = []
    for child in children:
        try:
            _, err = child.communicate(timeout=max(0.1, deadline - time.perf_counter()))
        except subprocess.TimeoutExpired:
            for c in children:
                c.kill()
            raise BenchError(f"parallel readers took more than {timeout:.0f} s")
        if child.returncode != 0:
            failures.append(err.decode(errors="replace").strip()[-200:])
    elapsed = time.perf_counter() - start
    if failures:
        raise BenchError(f"{len(failures)} of {len(children)} readers failed: {failures[0]}")
    return elapsed


def drop_caches(level: int = 3) -> None:
    """1 drops the page cache, 2 dentries and inodes, 3 both (machine-wide)."""
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write(f"{level}\n")


def read_through(path: str) -> None:
    """Reads a file once, so the page cache holds it (the server's copy stays in memory)."""
    with open(path, "rb", buffering=0) as f:
        while f.read(8 << 20):
            pass


def mounted(path: str) -> bool:
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == path for line in f)


def wait_until_mounted(path: str, process: subprocess.Popen, log: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not mounted(path):
        if process.poll() is not None:
            raise BenchError(f"exited with {process.returncode} before mounting: {log_tail(log)}")
        if time.monotonic() > deadline:
            raise BenchError(f"not mounted after {timeout:.0f} s: {log_tail(log)}")
        time.sleep(0.005)


def unmount(path: str, process: subprocess.Popen | None) -> None:
    """Unmounts and waits for the filesystem's process to end; forcibly when it will not."""
    if mounted(path):
        for tool in (["fusermount3", "-u"], ["fusermount", "-u"], ["umount"]):
            try:
                if subprocess.run(tool + [path], stderr=subprocess.DEVNULL, timeout=30).returncode == 0:
                    break
            except (OSError, subprocess.TimeoutExpired):
                continue
    if process is not None and process.poll() is None:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
    if mounted(path):
        subprocess.run(["umount", "-l", path], stderr=subprocess.DEVNULL, timeout=30)


def status_mib(pid: int, field: str) -> float:
    """A memory figure of /proc/PID/status (VmRSS, VmHWM), in MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise BenchError(f"no {field} for process {pid}")


def resident_mib(pid: int) -> float:
    """VmRSS: what the process holds resident now."""
    return status_mib(pid, "VmRSS")


def peak_rss_mib(pid: int) -> float:
    """VmHWM: the most resident memory the process has had since it started."""
    return status_mib(pid, "VmHWM")
