"""Presence benchmark: "where is X" and "who is on site" through the gateway,
for a 3,600-person organisation.

Starts its own booking service, presence service and gateway on fresh
databases, a fresh RabbitMQ vhost and a Redis key prefix of its own. Loads a
region-sized directory (3,600 people in 120 teams, two sites of 600 desks),
weekly patterns for everyone and a thousand desk bookings for today, lets
presence build its read model, then measures:

* where-is at the gateway at a fixed arrival rate (open loop, default
  1,000 requests/s) from many askers about random people;
* the same question answered by the presence service over RPC (what the
  read model saves);
* who-is-on-site for the busiest site today, whole and for one team;
* in the same run, the raw Redis GET latency the read path is built on.

    .venv/bin/python bench/presence.py [--rate 1000] [--seconds 15] [--people 3600]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
import uuid
from datetime import datetime, time as dtime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's folder comes first on sys.path and this file
# would shadow the ``presence`` package: put the repository root there instead.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]

import aiohttp  # noqa: E402
import httpx  # noqa: E402
import psycopg  # noqa: E402
import redis  # noqa: E402

from booking.adapters.migrate import upgrade as upgrade_booking  # noqa: E402
from booking.demo.names import FAMILY, FEMALE, MALE  # noqa: E402
from gateway.adapters.migrate import upgrade as upgrade_gateway  # noqa: E402
from gateway.adapters.tokens import issue_token  # noqa: E402
from presence.adapters.migrate import upgrade as upgrade_presence  # noqa: E402
from tests.support.presence import delete_prefix, presence_process  # noqa: E402
from tests.support.processes import booking_process, gateway_process  # noqa: E402
from tests.support.servers import AMQP_BASE, REDIS_URL, create_database, drop_database  # noqa: E402

from bench.loadgen import open_loop  # noqa: E402

PARIS = ZoneInfo("Europe/Paris")
DEPARTMENTS = ("Finances", "Culture", "DSI", "RH", "Urbanisme", "Voirie", "Action sociale",
               "Éducation", "Sports", "État civil")


def percentiles(samples_ms: list[float]) -> dict:
    ordered = sorted(samples_ms)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99), "max": ordered[-1]}


def fmt(p: dict) -> str:
    return " ".join(f"{k}={v:.2f}ms" for k, v in p.items())


# --- the organisation -----------------------------------------------------------------


def build_organisation(booking_db: str, presence_db: str, people: int, desks_per_site: int):
    """People, teams, two sites, weekly patterns and today's desk bookings, written
    straight into the stores (the set-up, not what is measured)."""
    rng = random.Random(42)
    today = datetime.now(PARIS).date()
    weekday = today.isoweekday()
    with psycopg.connect(booking_db) as conn:
        one = lambda q, p=(): str(conn.execute(q, p).fetchone()[0])  # noqa: E731
        org = one("INSERT INTO organisation (code, name) VALUES ('region', 'Région') RETURNING id")
        sites, desks = [], {}
        for s, name in enumerate(("Hôtel de Région", "Centre technique")):
            site = one("INSERT INTO site (organisation_id, code, name, closed_weekdays, opening_time, "
                       "midday_time, closing_time) VALUES (%s, %s, %s, '{}', '00:00', '12:00', '23:59') "
                       "RETURNING id", (org, f"S{s}", name))
            building = one("INSERT INTO building (site_id, code, name) VALUES (%s, 'B', 'Bâtiment') RETURNING id",
                           (site,))
            desks[site] = []
            for f in range(2):
                floor = one("INSERT INTO floor (building_id, code, name, level) VALUES (%s, %s, %s, %s) RETURNING id",
                            (building, f"F{f}", f"Étage {f}", f))
                zone = one("INSERT INTO zone (floor_id, code, name) VALUES (%s, 'Z', 'Plateau') RETURNING id",
                           (floor,))
                with conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO resource (site_id, floor_id, zone_id, kind, code, name) "
                        "VALUES (%s, %s, %s, 'desk', %s, %s)",
                        [(site, floor, zone, f"D{f}{i:03d}", f"Bureau {f}.{i:03d}")
                         for i in range(desks_per_site // 2)])
                desks[site] += [str(r[0]) for r in conn.execute(
                    "SELECT id FROM resource WHERE floor_id = %s ORDER BY code", (floor,)).fetchall()]
            sites.append(site)
        teams = [one("INSERT INTO team (organisation_id, code, name, department) VALUES (%s, %s, %s, %s) RETURNING id",
                     (org, f"T{t:03d}", f"Équipe {t}", DEPARTMENTS[t % len(DEPARTMENTS)]))
                 for t in range(people // 30)]
        rows, memberships = [], []
        for i in range(people):
            pid = str(uuid.uuid4())
            given = rng.choice(FEMALE + MALE)
            family = rng.choice(FAMILY)
            rows.append((pid, org, f"p{i}@region-exemple.fr", given, family, f"{given} {family}",
                         DEPARTMENTS[(i // 30) % len(DEPARTMENTS)], f"{1000 + i}"))
            memberships.append((teams[(i // 30) % len(teams)], pid))
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO person (id, organisation_id, email, given_name, family_name, display_name, "
                            "department, phone_extension) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", rows)
            cur.executemany("INSERT INTO team_member (team_id, person_id) VALUES (%s, %s)", memberships)
            # Imported yesterday, as in steady state: presence's directory sync
            # re-reads only people changed in its last minutes (people imported
            # minutes ago are re-read at each round, as they are in production).
            cur.execute("UPDATE person SET updated_at = now() - interval '1 day' WHERE organisation_id = %s", (org,))
        person_ids = [r[0] for r in rows]
        # A thousand desks booked for today, half on each site (events would have
        # told presence; here its start-up snapshot of booking.active_bookings does).
        start = datetime.combine(today, dtime(8, 0), PARIS)
        end = datetime.combine(today, dtime(18, 0), PARIS)
        booked = []
        for k, pid in enumerate(person_ids[:1000]):
            site = sites[k % 2]
            booked.append((desks[site][k // 2], pid, f"[{start.isoformat()},{end.isoformat()})"))
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO booking (resource_id, resource_kind, person_id, during, period) "
                            "VALUES (%s, 'desk', %s, %s::tstzrange, 'day')", booked)
        conn.commit()
    # Weekly patterns: each team on site at its site two days a week (today among
    # them for two teams in three), remote otherwise.
    with psycopg.connect(presence_db) as conn:
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO person_state (person_id) VALUES (%s)", [(p,) for p in person_ids])
            patterns = []
            for i, pid in enumerate(person_ids):
                team = i // 30
                site = sites[team % 2]
                on_site_today = team % 3 != 2
                for day in range(1, 6):
                    on_site = (day == weekday and on_site_today) or (day != weekday and (day + team) % 2 == 0)
                    patterns.append((pid, day, "am", "on_site" if on_site else "remote",
                                     site if on_site else None))
                    patterns.append((pid, day, "pm", "on_site" if on_site else "remote", site if on_site else None))
            cur.executemany("INSERT INTO plan_pattern (person_id, weekday, slot, status, site_id) "
                            "VALUES (%s, %s, %s, %s, %s)", patterns)
        conn.commit()
    return sites, teams, person_ids


# --- measurements --------------------------------------------------------------------------


def where_is_open_loop(url: str, tokens: list[str], subjects: list[str], rate: int, seconds: float,
                       path_suffix: str = "", path: str | None = None, cpu: int | None = None):
    """Requests at a fixed arrival rate from the lean generator (a process of
    its own); latency from the moment each request was due."""
    paths = [f"/api/v1{path}"] if path else [f"/api/v1/presence/{s}{path_suffix}" for s in subjects]
    headers = [{"Authorization": f"Bearer {t}"} for t in tokens]
    result = open_loop(url, paths, headers, rate, seconds, cpu=cpu)
    errors = result.errors + [s for s, n in result.statuses.items() if s != 200 for _ in range(n)]
    return result.achieved_rate, percentiles(result.latencies_ms), errors, percentiles(result.send_lag_ms)


async def closed_loop(url: str, tokens: list[str], path: str, params: dict, n: int, clients: int):
    """``n`` requests from ``clients`` clients, each asked by the next of ``tokens``."""
    latencies, sizes, counts = [], [], []
    askers = iter(tokens * (n // len(tokens) + 1))
    async with aiohttp.ClientSession() as session:
        async def client(count):
            for _ in range(count):
                started = time.perf_counter()
                async with session.get(f"{url}/api/v1{path}", params=params,
                                       headers={"Authorization": f"Bearer {next(askers)}"}) as answer:
                    body = await answer.read()
                    answer.raise_for_status()
                latencies.append((time.perf_counter() - started) * 1000)
                sizes.append(len(body))
                if not counts:
                    counts.append(len(json.loads(body)["people"]))

        await asyncio.gather(*(client(n // clients) for _ in range(clients)))
    return percentiles(latencies), max(sizes), max(counts) if counts else None


async def warm_up(url: str, tokens: list[str], subjects: list[str], clients: int = 16) -> None:
    """Everyone asked about once, by every asker in turn: in steady state the
    gateway holds the read model and the askers' credentials in memory."""
    queue = list(enumerate(subjects))
    async with aiohttp.ClientSession() as session:
        async def client():
            while queue:
                n, subject = queue.pop()
                async with session.get(f"{url}/api/v1/presence/{subject}",
                                       headers={"Authorization": f"Bearer {tokens[n % len(tokens)]}"}) as answer:
                    await answer.read()
        await asyncio.gather(*(client() for _ in range(clients)))


def server_buckets(url: str, route: str) -> dict[str, float]:
    """The gateway's own latency histogram for a route (cumulative counts per bound)."""
    text = httpx.get(f"{url}/metrics").text
    out = {}
    for line in text.splitlines():
        if line.startswith("escale_gateway_request_seconds_bucket{") and f'route="{route}"' in line \
                and 'status="200"' in line:
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            out[bound] = out.get(bound, 0) + float(line.rsplit(" ", 1)[1])
    return out


def read_counts(url: str) -> dict:
    text = httpx.get(f"{url}/metrics").text
    counts = {}
    for line in text.splitlines():
        if line.startswith("escale_gateway_presence_reads_total{"):
            source = line.split('source="', 1)[1].split('"', 1)[0]
            counts[source] = float(line.rsplit(" ", 1)[1])
    return counts


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def raw_redis_get(key: str, n: int = 5000) -> dict:
    client = redis.Redis.from_url(REDIS_URL)
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        client.get(key)
        samples.append((time.perf_counter() - started) * 1000)
    client.close()
    return percentiles(samples)


def wait_for_read_model(prefix: str, days: int, timeout: float = 180) -> float:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    started = time.monotonic()
    today = datetime.now(PARIS).date()
    keys = [f"{prefix}v1:ready:{(today + timedelta(days=d)).isoformat()}" for d in range(days + 1)]
    while time.monotonic() - started < timeout:
        if client.exists(f"{prefix}v1:meta") and client.exists(*keys) == len(keys):
            client.close()
            return time.monotonic() - started
        time.sleep(0.2)
    raise RuntimeError("presence did not build its read model in time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=1000, help="where-is requests per second")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--people", type=int, default=3600)
    parser.add_argument("--desks", type=int, default=600, help="desks per site (two sites)")
    parser.add_argument("--askers", type=int, default=200)
    parser.add_argument("--pin", action="store_true",
                        help="gateway on the first core, load generator on the last "
                             "(default: the scheduler places them)")
    args = parser.parse_args()

    run = uuid.uuid4().hex[:8]
    vhost = f"escale-bench-{run}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"], check=True)
    amqp_uri = f"{AMQP_BASE}/{quote(vhost, safe='')}"
    names = {k: f"escale_bench_{run}_{k}" for k in ("booking", "gateway", "presence")}
    urls = {k: create_database(v) for k, v in names.items()}
    prefix = f"escale-bench-{run}:presence:"
    processes = []
    try:
        upgrade_booking(urls["booking"])
        upgrade_gateway(urls["gateway"])
        upgrade_presence(urls["presence"])
        t0 = time.perf_counter()
        sites, teams, people = build_organisation(urls["booking"], urls["presence"], args.people, args.desks)
        setup = time.perf_counter() - t0
        askers = people[:args.askers]
        tokens = [issue_token(urls["gateway"], email=f"p{i}@region-exemple.fr", role="agent", person_id=p)
                  for i, p in enumerate(askers)]
        processes.append(booking_process(amqp_uri, urls["booking"]).start())
        started = time.perf_counter()
        # Production's directory sync interval (the test helper's default syncs
        # every 2 s, for tests that write people straight into the database).
        processes.append(presence_process(amqp_uri, urls["presence"], prefix,
                                          ESCALE_PRESENCE_DIRECTORY_SYNC="30").start(timeout=60))
        build = wait_for_read_model(prefix, 7) + (time.perf_counter() - started)
        # Production's per-credential rate limit (one Redis round trip per
        # request); each asker stays well under it.
        gw = gateway_process(amqp_uri, urls["gateway"], ESCALE_REDIS_URL=REDIS_URL,
                             ESCALE_PRESENCE_REDIS_PREFIX=prefix, ESCALE_RATE_LIMIT_TOKEN="600/60",
                             ESCALE_GATEWAY_REDIS_PREFIX=f"escale-bench-{run}:gateway:").start()
        processes.append(gw)
        cores = sorted(os.sched_getaffinity(0))
        load_cpu = None
        if args.pin and len(cores) >= 2:
            # One core for the gateway, one for whoever asks: what "2 cores" means.
            os.sched_setaffinity(gw.proc.pid, {cores[0]})
            load_cpu = cores[-1]
        check = httpx.get(f"{gw.url}/api/v1/presence/{people[0]}", headers={"Authorization": f"Bearer {tokens[1]}"})
        check.raise_for_status()
        assert check.json()["presence"]["status"] == "on_site", check.text

        today = datetime.now(PARIS).date()
        load = os.getloadavg()
        raw = raw_redis_get(f"{prefix}v1:day:{today.isoformat()}:{people[0]}")
        # Warm-up (in steady state the gateway holds the read model in memory,
        # refreshed by presence's events, and each asker's token, for a minute).
        asyncio.run(warm_up(gw.url, tokens, people))
        before = read_counts(gw.url)
        route = "/api/v1/presence/{person}"
        buckets_before = server_buckets(gw.url, route)
        cpu = cpu_seconds(gw.proc.pid)
        rate, where, errors, lag = where_is_open_loop(gw.url, tokens, people, args.rate, args.seconds, cpu=load_cpu)
        where_cpu = (cpu_seconds(gw.proc.pid) - cpu) / (args.rate * args.seconds) * 1000
        buckets = {k: v - buckets_before.get(k, 0) for k, v in server_buckets(gw.url, route).items()}
        inside = {le: buckets.get(le, 0) / max(1, buckets.get("+Inf", 1)) for le in ("0.002", "0.005", "0.01")}
        raw_after = raw_redis_get(f"{prefix}v1:day:{today.isoformat()}:{people[0]}")
        after = read_counts(gw.url)
        reads = {k: after.get(k, 0) - before.get(k, 0) for k in ("memory", "redis", "service")}
        # The same arrival rate on an authenticated route answered from memory
        # without presence (the catalogue cache): what the gateway itself costs.
        cpu = cpu_seconds(gw.proc.pid)
        base_rate, base, base_errors, _ = where_is_open_loop(
            gw.url, tokens, people, args.rate, 5, path="/sites", cpu=load_cpu)
        base_cpu = (cpu_seconds(gw.proc.pid) - cpu) / (args.rate * 5) * 1000
        now = datetime.now(timezone.utc).isoformat()
        rpc_rate, rpc, rpc_errors, _ = where_is_open_loop(
            gw.url, tokens, people, 200, 5, path_suffix=f"?at={quote(now)}", cpu=load_cpu)
        roster, roster_bytes, roster_people = asyncio.run(closed_loop(
            gw.url, tokens[:20], "/presence", {"site": sites[0], "date": today.isoformat()}, 300, 2))
        team_roster, _, team_people = asyncio.run(closed_loop(
            gw.url, tokens[:20], "/presence", {"site": sites[0], "date": today.isoformat(), "team": teams[0]}, 300, 2))

        print(f"# load average before the run: {load[0]:.2f} (other processes share these 2 cores)")
        print("# gateway as deployed: per-token rate limit 600/60 (counted in Redis), uvloop")
        print(f"# load generator: bench/loadgen.py, open loop, 64 keep-alive connections, own process; "
              + (f"gateway pinned to core {cores[0]}, generator to core {load_cpu}" if load_cpu is not None
                 else "not pinned"))
        print(f"# presence benchmark ({args.people} people, {len(teams)} teams, 2 sites of {args.desks} desks, "
              f"1000 desk bookings today; 1 booking, 1 presence, 1 gateway process; 2 cores)")
        print(f"set-up {setup:.1f}s; presence start + read model of {8} days built in {build:.1f}s")
        print(f"raw Redis GET (day document)   : {fmt(raw)}  (after the load: {fmt(raw_after)})")
        print(f"where-is via gateway, read model: {rate:.0f} req/s achieved of {args.rate} offered over "
              f"{args.seconds:g}s; {fmt(where)}; failures={len(errors)}")
        print(f"  generator's own lag (due -> written): {fmt(lag)}")
        print(f"  answered from: memory {reads['memory']:.0f}, Redis {reads['redis']:.0f}, "
              f"service (RPC) {reads['service']:.0f}; gateway CPU {where_cpu:.2f} ms per request")
        print(f"  measured inside the gateway: {inside['0.002']:.1%} within 2 ms, {inside['0.005']:.2%} "
              f"within 5 ms, {inside['0.01']:.2%} within 10 ms")
        print(f"baseline GET /sites (auth only) : {base_rate:.0f} req/s achieved of {args.rate} offered over 5s; "
              f"{fmt(base)}; failures={len(base_errors)}; gateway CPU {base_cpu:.2f} ms per request")
        print(f"where-is via gateway, RPC       : {rpc_rate:.0f} req/s offered 200; {fmt(rpc)}; "
              f"failures={len(rpc_errors)}")
        print(f"who-is-on-site, one site today  : {roster_people} people, {roster_bytes / 1024:.0f} KiB; {fmt(roster)}")
        print(f"who-is-on-site, one team        : {team_people} people; {fmt(team_roster)}")
        print(f"ratio where-is p50 / raw Redis GET p50 : {where['p50'] / raw['p50']:.1f}x")
        print(f"target where-is p99 < 5 ms at {args.rate}/s: {'met' if where['p99'] < 5 and rate >= 0.95 * args.rate else 'NOT met'}; "
              f"roster p95 < 20 ms: {'met' if roster['p95'] < 20 else 'NOT met'}")
        if errors:
            print("first failures:", errors[:5])
    finally:
        for process in processes:
            process.stop()
        client = redis.Redis.from_url(REDIS_URL)
        delete_prefix(client, prefix)
        delete_prefix(client, f"escale-bench-{run}:gateway:")
        client.close()
        for name in names.values():
            drop_database(name)
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False)


if __name__ == "__main__":
    main()
