"""Door tablet fan-out: N WebSocket clients of one gateway, one booking event,
the time until every client has it.

Starts its own booking service and gateway on fresh databases and a fresh
RabbitMQ vhost, makes a site with a room, issues N device tokens for that
room, opens N WebSockets to ``/api/v1/live`` subscribed to the room, then
books the room ``--events`` times (one booking at a time) and records, for
every client, the delay from the booking request to the ``booking.created``
message arriving. Prints p50/p95/max over all deliveries, the spread between
the first and the last client of each event (the gateway's fan-out alone),
and the gateway's resident memory before and after the clients connected.

    .venv/bin/python bench/display_fanout.py [--clients 1000] [--events 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
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


async def client(session, url, token, topic, ready: asyncio.Event, arrivals: dict, index: int):
    ws = await session.ws_connect(url, headers={"Authorization": f"Bearer {token}"}, heartbeat=None)
    async for message in ws:
        data = json.loads(message.data)
        if data.get("type") == "welcome":
            await ws.send_json({"op": "subscribe", "topics": [topic]})
        elif data.get("type") == "subscribed":
            assert data["topics"] == [topic], data
            ready.set()
        elif data.get("type") == "booking.created":
            arrivals.setdefault(data["booking"]["id"], {})[index] = time.perf_counter()
    return ws


async def measure(gateway_url: str, tokens: list[str], room_id: str, agent: str, events: int,
                  gateway_pid: int) -> None:
    topic = f"resource:{room_id}"
    url = f"{gateway_url}/api/v1/live"
    arrivals: dict[str, dict[int, float]] = {}
    connector = aiohttp.TCPConnector(limit=0)
    before = rss_mib(gateway_pid)
    async with aiohttp.ClientSession(connector=connector) as session:
        readies = [asyncio.Event() for _ in tokens]
        t0 = time.perf_counter()
        tasks = []
        for i, token in enumerate(tokens):  # in waves, as tablets would not all connect at once
            tasks.append(asyncio.create_task(client(session, url, token, topic, readies[i], arrivals, i)))
            if i % 100 == 99:
                await asyncio.sleep(0.05)
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 120)
        connected = time.perf_counter() - t0
        await asyncio.sleep(1)
        after = rss_mib(gateway_pid)
        print(f"  {len(tokens)} clients connected and subscribed in {connected:.1f}s; gateway RSS "
              f"{before:.0f} MiB before, {after:.0f} MiB after "
              f"({(after - before) * 1024 / len(tokens):.1f} KiB per client)")

        latencies, spreads = [], []
        start = datetime.now(timezone.utc) + timedelta(days=1)
        async with httpx.AsyncClient(base_url=gateway_url, timeout=30,
                                     headers={"Authorization": f"Bearer {agent}"}) as api:
            for n in range(events):
                slot = start + timedelta(minutes=30 * n)
                sent = time.perf_counter()
                answer = await api.post("/api/v1/bookings", json={
                    "resource_id": room_id, "start": slot.isoformat(),
                    "end": (slot + timedelta(minutes=30)).isoformat()})
                answer.raise_for_status()
                booking_id = answer.json()["id"]
                deadline = time.perf_counter() + 30
                while len(arrivals.get(booking_id, {})) < len(tokens) and time.perf_counter() < deadline:
                    await asyncio.sleep(0.005)
                got = arrivals.get(booking_id, {})
                if len(got) < len(tokens):
                    print(f"  event {n}: only {len(got)} of {len(tokens)} clients got it within 30 s")
                times = sorted(got.values())
                latencies += [(t - sent) * 1000 for t in times]
                spreads.append((times[-1] - times[0]) * 1000)
                await asyncio.sleep(0.5)
        print(f"  request -> every client (booking RPC, outbox relay, AMQP, fan-out), "
              f"{len(latencies)} deliveries: {fmt(percentiles(latencies))}")
        print(f"  fan-out spread, first to last client per event: {fmt(percentiles(spreads))}")
        print(f"  gateway RSS with clients after the events: {rss_mib(gateway_pid):.0f} MiB")
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--events", type=int, default=5)
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
              f"{args.events} booking events")
        asyncio.run(measure(gw.url, tokens, room, agent, args.events, gw.proc.pid))
    finally:
        for process in reversed(processes):
            process.stop()
        for name in names.values():
            drop_database(name)
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False)


if __name__ == "__main__":
    main()
