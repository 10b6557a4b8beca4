#!/usr/bin/env python3
"""A traffic-shaping TCP proxy that makes loopback look like a WAN link (standard library only).

Every byte that passes is shaped as a real path would shape it:

- a one-way delay in each direction: data read at t leaves the proxy at t + delay, so a request and
  its reply cost a round trip (2 × delay). Chunks wait in a timestamped queue per direction and
  each is released when its time comes, so a stream keeps delay × rate bytes in flight and its
  throughput is not one chunk per delay;
- a new connection costs a round trip before any data passes (the SYN / SYN-ACK of a real
  handshake): neither side's socket is read until 2 × delay after the accept, and what is read
  then is delayed as usual, so the first reply byte on a new connection comes 2 round trips after
  connect() (which itself returns at once: loopback);
- a rate cap per connection and direction (a token bucket each), and a link cap shared by all
  connections (one token bucket per direction), taken before a chunk enters the delay queue, as
  the bottleneck's serialisation comes before propagation.

A direction stops reading its socket while its queue holds more than `queue_limit` bytes, so memory
stays bounded however slow the receiving side is. Half-close passes through (EOF is forwarded, after
the delay, as a shutdown of the write side); a reset or error on either side aborts both.

As a module (what bench/run.py does):

    shaper = Shaper(PROFILES["wan20"], ("127.0.0.1", upstream_port))
    shaper.start()                 # its own event loop in a thread; shaper.port is the listening port
    ...
    shaper.stop()

As a program:

    python3 bench/shaper.py --listen 127.0.0.1:8081 --upstream 127.0.0.1:8080 \\
        --delay-ms 20 --conn-rate 10MB --link-rate 100MB
    python3 bench/shaper.py --listen 127.0.0.1:0 --upstream 127.0.0.1:8080 --profile wan75

Rates are bytes per second: `10MB` is 10,000,000 B/s, `10MiB` 10,485,760 B/s, `0` no cap.
"""

import argparse
import asyncio
import collections
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

CHUNK = 64 << 10   # the most read from a socket at once, so shaping stays smooth at a few MB/s


@dataclass(frozen=True)
class Profile:
    name: str
    delay_ms: float        # one way; a round trip costs twice this
    conn_rate: float       # bytes/s per connection and direction; 0 = no cap
    link_rate: float       # bytes/s shared by all connections, per direction; 0 = no cap

    def describe(self) -> str:
        rate = lambda r: f"{r / 1e6:g} MB/s" if r else "uncapped"
        return (f"{self.name}: {self.delay_ms:g} ms one way ({2 * self.delay_ms:g} ms round trip, and one more "
                f"to set up each connection), {rate(self.conn_rate)} per connection, {rate(self.link_rate)} "
                f"for the link, each direction")


PROFILES = {
    "wan20": Profile("wan20", 20, 10e6, 100e6),
    "wan75": Profile("wan75", 75, 3e6, 50e6),
}


def parse_rate(text: str) -> float:
    """`10MB` (10^6), `10MiB` (2^20), `500k`, `0`, with or without a trailing `/s`; bytes per second."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kKmMgG]?)(i?)[bB]?(?:/s)?\s*", text)
    if not match:
        raise ValueError(f"not a rate: {text!r} (e.g. 10MB, 3MiB, 0)")
    number, prefix, binary = match.groups()
    power = " kmg".index(prefix.lower() or " ")
    return float(number) * (1024 if binary else 1000) ** power


def parse_address(text: str) -> tuple:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"not HOST:PORT: {text!r}")
    return host.strip("[]"), int(port)


class TokenBucket:
    """A token bucket that lends: taking n bytes always succeeds and returns how long the taker must
    wait for the bucket to have paid for them. Callers that take one after another are served in
    that order, so a shared bucket divides its rate between them."""

    def __init__(self, rate: float, burst: float):
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated = time.monotonic()

    def take(self, n: int) -> float:
        if not self.rate:
            return 0.0
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        self.tokens -= n
        return -self.tokens / self.rate if self.tokens < 0 else 0.0


_EOF = object()


class _Direction:
    """One direction of one connection: a reader that shapes and timestamps, a writer that releases."""

    def __init__(self, shaper: "Shaper", index: int, conn_bucket: TokenBucket, link_bucket: TokenBucket,
                 reader: asyncio.StreamReader, writer: asyncio.StreamWriter, opened: float):
        self.shaper = shaper
        self.index = index   # 0 towards the upstream, 1 towards the client
        self.conn_bucket = conn_bucket
        self.link_bucket = link_bucket
        self.reader = reader
        self.writer = writer
        self.not_before = opened + 2 * shaper.delay   # the handshake's round trip
        self.queue: collections.deque = collections.deque()
        self.queued = 0
        self.arrived = asyncio.Event()   # something was queued
        self.room = asyncio.Event()      # the queue fell below its limit
        self.room.set()

    async def read(self) -> None:
        limit = self.shaper.queue_limit
        # Nothing is sent before the handshake is over: the bytes wait in the socket's buffer.
        await asyncio.sleep(max(0.0, self.not_before - time.monotonic()))
        while True:
            while self.queued > limit:
                self.room.clear()
                await self.room.wait()
            data = await self.reader.read(CHUNK)
            if not data:
                self._put(_EOF)
                return
            wait = max(self.conn_bucket.take(len(data)), self.link_bucket.take(len(data)))
            if wait > 0:
                await asyncio.sleep(wait)
            self.queued += len(data)
            self._put(data)

    def _put(self, item) -> None:
        self.queue.append((time.monotonic(), item))
        self.arrived.set()

    async def write(self) -> None:
        delay = self.shaper.delay
        while True:
            while not self.queue:
                self.arrived.clear()
                await self.arrived.wait()
            stamp, item = self.queue[0]
            wait = stamp + delay - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self.queue.popleft()
            if item is _EOF:
                if self.writer.can_write_eof():
                    self.writer.write_eof()
                await self.writer.drain()
                return
            self.writer.write(item)
            self.queued -= len(item)
            self.shaper.bytes[self.index] += len(item)
            if self.queued <= self.shaper.queue_limit:
                self.room.set()
            await self.writer.drain()


class Shaper:
    """The proxy. `start()` runs it in a thread with its own event loop; `serve()` runs it in the
    caller's loop. `port` is the listening port once started (pass port 0 to pick a free one)."""

    def __init__(self, profile: Profile, upstream: tuple, listen: tuple = ("127.0.0.1", 0),
                 queue_limit: int | None = None):
        self.profile = profile
        self.upstream = upstream
        self.listen = listen
        self.delay = profile.delay_ms / 1000
        # Enough for a connection's bytes in flight (rate × delay) twice over, at least 1 MiB.
        self.queue_limit = queue_limit or int(max(1 << 20, 2 * (profile.conn_rate or profile.link_rate or 0) * self.delay))
        # A link's burst is small: what it sends in a few milliseconds, never less than one chunk.
        self.link_buckets = [TokenBucket(profile.link_rate, max(CHUNK, profile.link_rate * 0.002)) for _ in range(2)]
        self.port = 0
        self.connections = 0          # accepted so far
        self.active = 0
        self.bytes = [0, 0]           # forwarded upstream, downstream
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._error: BaseException | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.listen[0]}:{self.port}"

    # --- running ---------------------------------------------------------------------------------

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.listen[0], self.listen[1],
                                                  reuse_address=True, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def serve(self) -> None:
        """Serves until cancelled (or until `stop()` from another thread)."""
        self._stopped = asyncio.Event()
        await self.open()
        self._ready.set()
        try:
            await self._stopped.wait()
        finally:
            await self.close()

    def start(self) -> "Shaper":
        def main():
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(self.serve())
            except BaseException as error:   # noqa: B902 - reported to start()
                self._error = error
                self._ready.set()
            finally:
                self._loop.close()
        self._thread = threading.Thread(target=main, name=f"shaper-{self.profile.name}", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None or not self.port:
            raise RuntimeError(f"the shaping proxy did not start: {self._error}")
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        if self._stopped is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(30)
        self._thread = None

    # --- one connection -------------------------------------------------------------------------

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        self.connections += 1
        self.active += 1
        opened = time.monotonic()
        upstream_writer = None
        try:
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
            except OSError:
                # As a refused connection looks from afar: after the round trip, a reset.
                await asyncio.sleep(max(0.0, opened + 2 * self.delay - time.monotonic()))
                client_writer.transport.abort()
                return
            for w in (client_writer, upstream_writer):
                sock = w.get_extra_info("socket")
                if sock is not None:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            rate, burst = self.profile.conn_rate, max(CHUNK, self.profile.conn_rate * 0.002)
            up = _Direction(self, 0, TokenBucket(rate, burst), self.link_buckets[0], client_reader, upstream_writer, opened)
            down = _Direction(self, 1, TokenBucket(rate, burst), self.link_buckets[1], upstream_reader, client_writer, opened)
            pumps = [asyncio.ensure_future(c) for c in (up.read(), up.write(), down.read(), down.write())]
            try:
                done, pending = await asyncio.wait(pumps, return_when=asyncio.FIRST_EXCEPTION)
                failed = any(not t.cancelled() and t.exception() is not None for t in done)
            finally:
                for t in pumps:
                    t.cancel()
                await asyncio.gather(*pumps, return_exceptions=True)
            if failed:
                for w in (client_writer, upstream_writer):
                    w.transport.abort()
        except asyncio.CancelledError:
            for w in (client_writer, upstream_writer):
                if w is not None:
                    w.transport.abort()
            raise
        finally:
            for w in (client_writer, upstream_writer):
                if w is not None:
                    w.close()
            self.active -= 1
            self._tasks.discard(task)


class ShaperProcess:
    """The proxy as a child process (what the benchmark uses: its own interpreter, so the
    benchmark's Python work never holds the proxy up). `endpoint` is its http://127.0.0.1:PORT."""

    def __init__(self, profile: Profile, upstream: tuple, log: str, listen: tuple = ("127.0.0.1", 0)):
        self.profile = profile
        self.upstream = upstream
        self.listen = listen
        self.log = log
        self.process: subprocess.Popen | None = None
        self.endpoint = ""

    def start(self) -> "ShaperProcess":
        argv = [sys.executable, os.path.abspath(__file__), "--listen", f"{self.listen[0]}:{self.listen[1]}",
                "--upstream", f"{self.upstream[0]}:{self.upstream[1]}", "--delay-ms", f"{self.profile.delay_ms:g}",
                "--conn-rate", f"{self.profile.conn_rate:.0f}", "--link-rate", f"{self.profile.link_rate:.0f}",
                "--name", self.profile.name]
        with open(self.log, "a") as log:
            offset = log.tell()
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with open(self.log, "rb") as f:
                f.seek(offset)
                found = re.findall(r"listening on (http://\S+),", f.read().decode(errors="replace"))
            if found:
                self.endpoint = found[-1]
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"the shaping proxy did not start (see {self.log})")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description="A traffic-shaping TCP proxy (delay, per-connection and link caps).")
    parser.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT to listen on (port 0 picks one)")
    parser.add_argument("--upstream", required=True, help="HOST:PORT to forward to")
    parser.add_argument("--profile", choices=sorted(PROFILES), help="a named profile (the options below override it)")
    parser.add_argument("--delay-ms", type=float, help="one-way delay in milliseconds")
    parser.add_argument("--conn-rate", type=parse_rate, help="cap per connection and direction, e.g. 10MB (0: none)")
    parser.add_argument("--link-rate", type=parse_rate, help="cap shared by all connections, per direction (0: none)")
    parser.add_argument("--name", help="what to call the profile in the log")
    args = parser.parse_args(argv)
    base = PROFILES[args.profile] if args.profile else Profile("custom", 0, 0, 0)
    profile = Profile(args.name or args.profile or "custom",
                      base.delay_ms if args.delay_ms is None else args.delay_ms,
                      base.conn_rate if args.conn_rate is None else args.conn_rate,
                      base.link_rate if args.link_rate is None else args.link_rate)
    shaper = Shaper(profile, parse_address(args.upstream), parse_address(args.listen))

    async def run():
        loop = asyncio.get_running_loop()
        serving = asyncio.ensure_future(shaper.serve())
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, serving.cancel)
        while not shaper.port and not serving.done():
            await asyncio.sleep(0.01)
        if shaper.port:
            print(f"shaper: listening on {shaper.endpoint}, forwarding to {args.upstream}; {profile.describe()}",
                  flush=True)
        try:
            await serving
        except asyncio.CancelledError:
            pass
        print(f"shaper: stopped after {shaper.connections} connections; forwarded {shaper.bytes[0]:,} bytes "
              f"upstream, {shaper.bytes[1]:,} downstream", flush=True)

    try:
        asyncio.run(run())
    except OSError as error:
        print(f"shaper: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
