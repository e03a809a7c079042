"""Door tablet fan-out: N WebSocket clients of one gateway, one booking event,
the time until every client has it.

Starts its own booking service and gateway on fresh databases and a fresh
RabbitMQ vhost, makes a site with a room, issues N device tokens for that
room, opens N WebSockets to ``/api/v1/live`` subscribed to the room, then
books the room ``--events`` times (one booking at a time) and records, for
every client, the delay from the booking request to the ``booking.created``
message arriving.

The clients live in ``--client-processes`` processes of their own (default
2): 1,000 sockets parsing 1,000 frames in the measuring process's single
event loop would time that loop's backlog, not the gateway. Arrival times
are ``time.monotonic()`` stamps, one system-wide clock for every process.

Prints, over all deliveries: request -> client latency p50/p95/max; the
spread between the first and the last client of each event (fan-out as
clients see it, their own scheduling included); the gateway's own fan-out
time per event (its ``escale_gateway_live_fanout_seconds`` histogram: from
the AMQP message's arrival to every subscriber's frame written or queued);
and the gateway's resident memory before and after the clients connected.

    .venv/bin/python bench/display_fanout.py [--clients 1000] [--events 5] [--client-processes 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]

import aiohttp  # noqa: E402
import httpx  # noqa: E402

from booking.adapters.migrate import upgrade as upgrade_booking  # noqa: E402
from gateway.adapters.migrate import upgrade as upgrade_gateway  # noqa: E402
from gateway.adapters.tokens import issue_token  # noqa: E402
from tests.support.data import make_place  # noqa: E402
from tests.support.processes import booking_process, gateway_process  # noqa: E402
from tests.support.servers import AMQP_BASE, REDIS_URL, create_database, drop_database  # noqa: E402


def percentiles(samples_ms: list[float]) -> dict:
    ordered = sorted(samples_ms)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50": pick(0.50), "p95": pick(0.95), "max": ordered[-1]}


def fmt(p: dict) -> str:
    return " ".join(f"{k}={v:.1f}ms" for k, v in p.items())


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (clock ticks of 10 ms)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fanout_histogram(gateway_url: str) -> tuple[float, float]:
    """(sum of seconds, count) of the gateway's fan-out histogram."""
    text = httpx.get(f"{gateway_url}/metrics", timeout=10).text
    found = {m.group(1): float(m.group(2)) for m in
             re.finditer(r"^escale_gateway_live_fanout_seconds_(sum|count) (\S+)$", text, re.M)}
    return found.get("sum", 0.0), found.get("count", 0.0)


# --- the clients (in their own processes) ---------------------------------------------------


async def client(session, url, token, topic, ready: asyncio.Event, arrivals: dict, index: int):
    for attempt in range(20):  # as a tablet would: a busy gateway (503) is tried again later
        try:
            ws = await session.ws_connect(url, headers={"Authorization": f"Bearer {token}"}, heartbeat=None)
            break
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status != 503 or attempt == 19:
                raise
            await asyncio.sleep(0.5 + attempt * 0.25)
    async for message in ws:
        data = json.loads(message.data)
        if data.get("type") == "welcome":
            await ws.send_json({"op": "subscribe", "topics": [topic]})
        elif data.get("type") == "subscribed":
            assert data["topics"] == [topic], data
            ready.set()
        elif data.get("type") == "booking.created":
            arrivals.setdefault(data["booking"]["id"], {})[index] = time.monotonic()
    return ws


async def run_clients(url: str, tokens: list[str], topic: str, commands, results, wave: int) -> None:
    """Connect, say ready, then report each awaited booking's arrival times."""
    arrivals: dict[str, dict[int, float]] = {}
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        readies = [asyncio.Event() for _ in tokens]
        tasks = []
        for i, token in enumerate(tokens):  # in waves, as tablets would not all connect at once
            tasks.append(asyncio.create_task(client(session, url, token, topic, readies[i], arrivals, i)))
            if i % wave == wave - 1:
                await asyncio.sleep(0.05)
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 170)
        results.put(("ready", len(tokens)))
        while True:
            command = await loop.run_in_executor(None, commands.get)
            if command is None:
                break
            booking_id = command
            deadline = time.monotonic() + 30
            while len(arrivals.get(booking_id, {})) < len(tokens) and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
            results.put(("arrivals", booking_id, list(arrivals.get(booking_id, {}).values())))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def client_process(url, tokens, topic, commands, results, wave) -> None:
    asyncio.run(run_clients(url, tokens, topic, commands, results, wave))


# --- the measure ---------------------------------------------------------------------------


def measure(gateway_url: str, tokens: list[str], room_id: str, agent: str, events: int,
            gateway_pid: int, processes: int) -> None:
    topic = f"resource:{room_id}"
    url = f"{gateway_url}/api/v1/live"
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    shares = [tokens[i::processes] for i in range(processes)]
    commands = [context.Queue() for _ in shares]
    workers = [context.Process(target=client_process, args=(url, share, topic, commands[i], results,
                                                                max(1, 100 // processes)),
                               daemon=True) for i, share in enumerate(shares)]
    before = rss_mib(gateway_pid)
    t0 = time.monotonic()
    for worker in workers:
        worker.start()
    try:
        for _ in workers:
            kind, _count = results.get(timeout=200)
            assert kind == "ready"
        connected = time.monotonic() - t0
        time.sleep(1)
        after = rss_mib(gateway_pid)
        print(f"  {len(tokens)} clients in {processes} processes connected and subscribed in "
              f"{connected:.1f}s; gateway RSS {before:.0f} MiB before, {after:.0f} MiB after "
              f"({(after - before) * 1024 / len(tokens):.1f} KiB per client)")

        latencies, spreads, gateway_side, gateway_cpu = [], [], [], 0.0
        start = datetime.now(timezone.utc) + timedelta(days=1)
        with httpx.Client(base_url=gateway_url, timeout=30,
                          headers={"Authorization": f"Bearer {agent}"}) as api:
            for n in range(events):
                slot = start + timedelta(minutes=30 * n)
                fan_sum, fan_count = fanout_histogram(gateway_url)
                cpu_before = cpu_seconds(gateway_pid)
                sent = time.monotonic()
                answer = api.post("/api/v1/bookings", json={
                    "resource_id": room_id, "start": slot.isoformat(),
                    "end": (slot + timedelta(minutes=30)).isoformat()})
                answer.raise_for_status()
                booking_id = answer.json()["id"]
                for queue in commands:
                    queue.put(booking_id)
                times = []
                for _ in workers:
                    kind, got_id, stamps = results.get(timeout=60)
                    assert kind == "arrivals" and got_id == booking_id
                    times += stamps
                if len(times) < len(tokens):
                    print(f"  event {n}: only {len(times)} of {len(tokens)} clients got it within 30 s")
                gateway_cpu += cpu_seconds(gateway_pid) - cpu_before
                times.sort()
                latencies += [(t - sent) * 1000 for t in times]
                spreads.append((times[-1] - times[0]) * 1000)
                new_sum, new_count = fanout_histogram(gateway_url)
                if new_count > fan_count:
                    gateway_side.append((new_sum - fan_sum) / (new_count - fan_count) * 1000)
                time.sleep(0.5)
        print(f"  request -> every client (booking RPC, outbox relay, AMQP, fan-out, client), "
              f"{len(latencies)} deliveries: {fmt(percentiles(latencies))}")
        print(f"  fan-out spread, first to last client per event: {fmt(percentiles(spreads))}")
        if gateway_side:
            print(f"  gateway fan-out per event (AMQP message in -> every frame written or queued): "
                  f"{fmt(percentiles(gateway_side))}")
        print(f"  gateway CPU per event (the booking request, the event, the fan-out): "
              f"{gateway_cpu * 1000 / events:.0f} ms")
        print(f"  gateway RSS with clients after the events: {rss_mib(gateway_pid):.0f} MiB")
    finally:
        for queue in commands:
            queue.put(None)
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.terminate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--events", type=int, default=5)
    parser.add_argument("--client-processes", type=int, default=2,
                        help="processes the clients are spread over (not the gateway's loop)")
    args = parser.parse_args()

    run = uuid.uuid4().hex[:8]
    vhost = f"escale-bench-{run}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"], check=True)
    amqp_uri = f"{AMQP_BASE}/{quote(vhost, safe='')}"
    names = {k: f"escale_bench_{run}_{k}" for k in ("booking", "gateway")}
    urls = {k: create_database(v) for k, v in names.items()}
    processes = []
    try:
        upgrade_booking(urls["booking"])
        upgrade_gateway(urls["gateway"])
        place = make_place(urls["booking"], desks=1, rooms=1, people=1)
        room = place.rooms[0]
        tokens = [issue_token(urls["gateway"], email=f"device-{i}@devices.escale.invalid", role="device",
                              room_id=room) for i in range(args.clients)]
        agent = issue_token(urls["gateway"], email=place.emails[0], role="agent", person_id=place.people[0])
        processes.append(booking_process(amqp_uri, urls["booking"]).start())
        gw = gateway_process(amqp_uri, urls["gateway"], ESCALE_REDIS_URL=REDIS_URL).start()
        processes.append(gw)
        print(f"display fan-out: {args.clients} WebSocket clients on one gateway process, "
              f"{args.events} booking events, load average {Path('/proc/loadavg').read_text().split()[0]}")
        measure(gw.url, tokens, room, agent, args.events, gw.proc.pid, max(1, args.client_processes))
    finally:
        for process in reversed(processes):
            process.stop()
        for name in names.values():
            drop_database(name)
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False)


if __name__ == "__main__":
    main()
