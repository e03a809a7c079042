"""Booking benchmark: bookings/s and latency through the whole system.

Starts ``--replicas`` processes of each kind (booking, presence, gateway;
the clients spread over the gateways) on fresh databases and a fresh
RabbitMQ vhost whose queues are declared by ``escale broker setup``, books
distinct desks with many concurrent HTTP clients, reads the availability of
a 500-desk floor, reports each process's memory, and measures in the same
run the raw figures the system is built on (an AMQP publish-to-consume round
trip, single-row PostgreSQL insert commits, a Redis GET) so the ratios mean
something on any machine.

    .venv/bin/python bench/booking.py [--bookings 3000] [--clients 8,16,32] [--replicas 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's folder comes first on sys.path and this file
# would shadow the ``booking`` package: put the repository root there instead.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]

import aio_pika  # noqa: E402
import aiohttp  # noqa: E402
import httpx  # noqa: E402
import psycopg  # noqa: E402
import redis  # noqa: E402

from booking.adapters.migrate import upgrade as upgrade_booking  # noqa: E402
from gateway.adapters.migrate import upgrade as upgrade_gateway  # noqa: E402
from gateway.adapters.tokens import issue_token  # noqa: E402
from tests.support.data import make_place  # noqa: E402
from presence.adapters.migrate import upgrade as upgrade_presence  # noqa: E402
from tests.support.presence import delete_prefix, presence_process  # noqa: E402
from tests.support.processes import BIN, booking_process, gateway_process  # noqa: E402
from tests.support.servers import AMQP_BASE, REDIS_URL, create_database, drop_database  # noqa: E402


def percentiles(samples_ms: list[float]) -> dict:
    ordered = sorted(samples_ms)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99), "max": ordered[-1]}


def fmt(p: dict) -> str:
    return " ".join(f"{k}={v:.1f}ms" for k, v in p.items())


async def raw_amqp_round_trip(amqp_uri: str, n: int = 500) -> dict:
    """Publish one message and wait for it on a consumer: the floor under any RPC."""
    connection = await aio_pika.connect(amqp_uri)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.declare_queue(exclusive=True)
        arrived: asyncio.Queue = asyncio.Queue()
        await queue.consume(lambda m: arrived.put_nowait(m), no_ack=True)
        samples = []
        for _ in range(n):
            started = time.perf_counter()
            await channel.default_exchange.publish(aio_pika.Message(b"{}"), routing_key=queue.name)
            await arrived.get()
            samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def raw_redis_gets(n: int = 2000) -> dict:
    """One small GET at a time: the floor under the presence read model."""
    client = redis.Redis.from_url(REDIS_URL)
    key = f"escale-bench:{uuid.uuid4().hex}"
    client.set(key, b"x" * 200, ex=60)
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        client.get(key)
        samples.append((time.perf_counter() - started) * 1000)
    client.delete(key)
    client.close()
    return percentiles(samples)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_by_kind(kinds: dict, broker: list[int]) -> dict[str, float]:
    out = {kind: sum(cpu_seconds(p.proc.pid) for p in group) for kind, group in kinds.items()}
    out["broker"] = sum(cpu_seconds(pid) for pid in broker)
    return out


def settled_cpu(kinds: dict, broker: list[int], timeout: float = 20) -> dict[str, float]:
    """CPU by kind once the event consumers have caught up (a quiet half second)."""
    deadline = time.monotonic() + timeout
    before = cpu_by_kind(kinds, broker)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu_by_kind(kinds, broker)
        if sum(now.values()) - sum(before.values()) < 0.1:
            return now
        before = now
    return before


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def raw_pg_inserts(database_url: str, n: int = 2000) -> float:
    """Single-row inserts, each its own committed transaction: rows/s."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_raw (id uuid, at timestamptz)")
        started = time.perf_counter()
        for _ in range(n):
            conn.execute("INSERT INTO bench_raw VALUES (%s, now())", (uuid.uuid4(),))
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_raw")
    return n / elapsed


async def book_many(urls: list[str], tokens: list[str], desks: list[str], total: int, clients: int,
                    first: int = 0):
    """Each person books their own desk, day after day: distinct desks, no
    conflicts. ``first`` continues the numbering of an earlier round."""
    jobs: asyncio.Queue = asyncio.Queue()
    today = datetime.now(timezone.utc).date()
    for k in range(first, first + total):
        person = k % len(tokens)
        jobs.put_nowait((tokens[person], desks[person], (today + timedelta(days=1 + k // len(tokens))).isoformat()))
    latencies, failures = [], []

    async def client(session: aiohttp.ClientSession, url: str):
        while not jobs.empty():
            token, desk, day = jobs.get_nowait()
            started = time.perf_counter()
            async with session.post(
                f"{url}/api/v1/bookings", json={"resource_id": desk, "date": day, "period": "day"},
                headers={"Authorization": f"Bearer {token}"},
            ) as answer:
                body = await answer.read()
            latencies.append((time.perf_counter() - started) * 1000)
            if answer.status != 201:
                failures.append((answer.status, body[:200]))

    # aiohttp's client costs far less CPU than httpx: on 2 cores the load
    # generator competes with the system it measures.
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(30)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session, urls[c % len(urls)]) for c in range(clients)))
        elapsed = time.perf_counter() - started
    return total / elapsed, percentiles(latencies), failures


async def read_availability(url: str, tokens: list[str], floor_id: str, n: int, clients: int):
    """``n`` reads by ``clients`` clients, each asked by the next of ``tokens``
    (one agent alone would meet the production rate limit)."""
    day = (datetime.now(timezone.utc) + timedelta(days=1)).date().isoformat()
    latencies = []
    sizes = set()
    askers = iter(tokens * (n // len(tokens) + 1))

    async def client(session, count):
        for _ in range(count):
            started = time.perf_counter()
            async with session.get(f"{url}/api/v1/availability",
                                   params={"floor_id": floor_id, "date": day, "period": "day"},
                                   headers={"Authorization": f"Bearer {next(askers)}"}) as answer:
                answer.raise_for_status()
                body = await answer.read()
            latencies.append((time.perf_counter() - started) * 1000)
            if not sizes:  # parse once to check the answer; parsing is the client's cost
                sizes.add(len(json.loads(body)["resources"]))

    async with aiohttp.ClientSession() as s:
        await asyncio.gather(*(client(s, n // clients) for _ in range(clients)))
    return percentiles(latencies), sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=3000, help="per round")
    parser.add_argument("--clients", default="8,16,32", help="concurrent clients, one round each")
    parser.add_argument("--desks", type=int, default=500)
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--replicas", type=int, default=1,
                        help="processes of each kind: booking, presence, gateway")
    args = parser.parse_args()

    run = uuid.uuid4().hex[:8]
    vhost = f"escale-bench-{run}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"], check=True)
    amqp_uri = f"{AMQP_BASE}/{quote(vhost, safe='')}"
    booking_db = create_database(f"escale_bench_{run}_booking")
    gateway_db = create_database(f"escale_bench_{run}_gateway")
    presence_db = create_database(f"escale_bench_{run}_presence")
    prefix = f"escale-bench-{run}:presence:"
    processes = []
    try:
        upgrade_booking(booking_db)
        upgrade_gateway(gateway_db)
        upgrade_presence(presence_db)
        subprocess.run([str(BIN / "escale"), "broker", "setup"], check=True, capture_output=True,
                       env={**os.environ, "ESCALE_AMQP_URI": amqp_uri})
        place = make_place(booking_db, desks=args.desks, rooms=0, people=args.people)
        with psycopg.connect(booking_db) as conn:
            # Imported yesterday, as in steady state (see bench/presence.py).
            conn.execute("UPDATE person SET updated_at = now() - interval '1 day'")
        tokens = [issue_token(gateway_db, email=e, role="agent", person_id=p)
                  for p, e in zip(place.people, place.emails)]
        n = args.replicas
        kinds = {"booking": [booking_process(amqp_uri, booking_db) for _ in range(n)],
                 # Production's directory sync interval and rate limits.
                 "presence": [presence_process(amqp_uri, presence_db, prefix,
                                               ESCALE_PRESENCE_DIRECTORY_SYNC="30") for _ in range(n)],
                 "gateway": [gateway_process(amqp_uri, gateway_db, ESCALE_REDIS_URL=REDIS_URL,
                                             ESCALE_PRESENCE_REDIS_PREFIX=prefix,
                                             ESCALE_RATE_LIMIT_TOKEN="600/60",
                                             ESCALE_GATEWAY_REDIS_PREFIX=f"escale-bench-{run}:gateway:")
                             for _ in range(n)]}
        for group in kinds.values():
            for process in group:
                processes.append(process.start(90))
        urls = [g.url for g in kinds["gateway"]]
        for url in urls:
            httpx.get(f"{url}/api/v1/sites", headers={"Authorization": f"Bearer {tokens[0]}"}).raise_for_status()

        amqp = asyncio.run(raw_amqp_round_trip(amqp_uri))
        inserts = raw_pg_inserts(booking_db)
        redis_get = raw_redis_gets()
        print(f"# booking benchmark ({n} process(es) each of booking, presence and gateway, 2 cores; "
              "load generator on the same machine)")
        print(f"raw AMQP round trip      : {fmt(amqp)}")
        print(f"raw PostgreSQL inserts   : {inserts:.0f} rows/s (one commit each)")
        print(f"raw Redis GET            : {fmt(redis_get)}")
        # Warm-up: pools, caches, JIT-less Python's first calls.
        asyncio.run(book_many(urls, tokens, place.desks, 300, 16))
        done = 300
        broker = [int(p) for p in subprocess.run(["pgrep", "-f", "beam.smp.*rabbit"], capture_output=True,
                                                  text=True).stdout.split()]
        for clients in (int(c) for c in args.clients.split(",")):
            cpu_before = settled_cpu(kinds, broker)
            rate, booking_lat, failures = asyncio.run(
                book_many(urls, tokens, place.desks, args.bookings, clients, first=done))
            cpu_after = settled_cpu(kinds, broker)
            done += args.bookings
            print(f"bookings x{n}, {clients:3d} clients : {rate:.0f} bookings/s over {args.bookings}; "
                  f"{fmt(booking_lat)}; failures={len(failures)}; "
                  f"p50 / AMQP p50 = {booking_lat['p50'] / amqp['p50']:.0f}x; "
                  f"rate / raw inserts = {rate / inserts:.2f}")
            # Where the machine's CPU goes, per booking (events included): what
            # bounds the rate on 2 cores, and what to make cheaper first.
            spent = {k: (cpu_after[k] - cpu_before[k]) / args.bookings * 1000 for k in cpu_after}
            print("   CPU per booking: " + ", ".join(f"{k} {v:.1f} ms" for k, v in spent.items())
                  + f"; total {sum(spent.values()):.1f} ms (broker shared with the machine)")
            if failures:
                print("   first failures:", failures[:3])
        for readers in (1, 4):
            avail, sizes = asyncio.run(read_availability(urls[0], tokens[:50], place.floor_id, 400, readers))
            print(f"availability {max(sizes)}-desk floor, {readers} reader(s): {fmt(avail)}")
        for kind, group in kinds.items():
            sizes = ", ".join(f"{rss_mib(p.proc.pid):.0f} MiB" for p in group)
            print(f"memory (RSS) {kind:8s}    : {sizes} after the run")
    finally:
        for process in processes:
            process.stop()
        drop_database(f"escale_bench_{run}_booking")
        drop_database(f"escale_bench_{run}_gateway")
        drop_database(f"escale_bench_{run}_presence")
        client = redis.Redis.from_url(REDIS_URL)
        delete_prefix(client, prefix)
        delete_prefix(client, f"escale-bench-{run}:gateway:")
        client.close()
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False)


if __name__ == "__main__":
    main()
