"""A whole Escale install of a test module's own, seeded with the demo town
hall: booking, presence, notify and a gateway on databases, a vhost and a
Redis prefix that no other test sees, so what the module writes (admin
changes, the demo colleagues' week) disturbs nobody else.
"""

from __future__ import annotations

import subprocess
from contextlib import contextmanager
from types import SimpleNamespace
from urllib.parse import quote

import psycopg

from tests.support.notify import notify_process
from tests.support.presence import delete_prefix, presence_process
from tests.support.processes import booking_process, gateway_process
from tests.support.servers import AMQP_BASE, REDIS_URL, create_database, drop_database

ADMIN_EMAIL = "admin.demo@mairie-exemple.fr"
AGENT_EMAIL = "agent.demo@mairie-exemple.fr"
SERVICES = ("booking", "gateway", "notify", "presence")
# Small connection pools: the suite's own services hold theirs meanwhile, and
# PostgreSQL's 100 connections are shared by all.
POOLS = {"ESCALE_BOOKING_DB_POOL": "4", "ESCALE_PRESENCE_DB_POOL": "3", "ESCALE_NOTIFY_DB_POOL": "3"}


@contextmanager
def demo_system(run_id: str, tag: str, smtp_port: int):
    """Yields the gateway process, with ``tokens`` (agent, admin), ``people``
    (their person ids) and ``env`` (what an ``escale`` command needs to
    reach this install)."""
    import redis

    from booking.adapters.importer import import_people, import_resources
    from booking.adapters.migrate import upgrade as upgrade_booking
    from booking.demo import demo_csvs
    from gateway.adapters.migrate import upgrade as upgrade_gateway
    from gateway.adapters.tokens import issue_token
    from notify.adapters.migrate import upgrade as upgrade_notify
    from presence.adapters.migrate import upgrade as upgrade_presence

    vhost = f"escale-{tag}-{run_id}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, timeout=60)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
                   check=True, timeout=60)
    amqp = f"{AMQP_BASE}/{quote(vhost, safe='')}"
    names = {k: f"escale_test_{run_id}_{tag}_{k}" for k in SERVICES}
    urls = {k: create_database(v) for k, v in names.items()}
    prefix = f"escale-test-{run_id}:{tag}:"
    processes = []
    try:
        upgrade_booking(urls["booking"])
        upgrade_gateway(urls["gateway"])
        upgrade_notify(urls["notify"])
        upgrade_presence(urls["presence"])
        resources_csv, people_csv = demo_csvs()
        with psycopg.connect(urls["booking"]) as conn:
            import_people(conn, people_csv)
            import_resources(conn, resources_csv)
            conn.commit()
            ids = {email: str(conn.execute("SELECT id FROM person WHERE email = %s", (email,)).fetchone()[0])
                   for email in (AGENT_EMAIL, ADMIN_EMAIL)}
        processes.append(booking_process(amqp, urls["booking"], **POOLS).start())
        processes.append(presence_process(amqp, urls["presence"], f"{prefix}presence:", **POOLS).start(timeout=60))
        processes.append(notify_process(amqp, urls["notify"], smtp_port, **POOLS).start())
        gateway = gateway_process(amqp, urls["gateway"], ESCALE_REDIS_URL=REDIS_URL,
                                  ESCALE_PRESENCE_REDIS_PREFIX=f"{prefix}presence:",
                                  ESCALE_GATEWAY_REDIS_PREFIX=f"{prefix}gateway:").start()
        processes.append(gateway)
        gateway.people = SimpleNamespace(agent=ids[AGENT_EMAIL], admin=ids[ADMIN_EMAIL])
        gateway.tokens = {
            "agent": issue_token(urls["gateway"], email=AGENT_EMAIL, role="agent", person_id=ids[AGENT_EMAIL]),
            "admin": issue_token(urls["gateway"], email=ADMIN_EMAIL, role="admin", person_id=ids[ADMIN_EMAIL]),
        }
        gateway.env = {
            "ESCALE_AMQP_URI": amqp,
            **{f"ESCALE_{k.upper()}_DATABASE_URL": url for k, url in urls.items()},
        }
        yield gateway
    finally:
        for process in reversed(processes):
            process.stop()
        client = redis.Redis.from_url(REDIS_URL)
        delete_prefix(client, prefix)
        client.close()
        for name in names.values():
            drop_database(name)
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False, timeout=60)
