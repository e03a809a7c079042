"""Use-case tests' own notify databases: the running notify service must not
send what these tests record."""

from contextlib import contextmanager

from notify.adapters.db import open_pool
from notify.adapters.migrate import upgrade
from notify.adapters.store import NotifyStore
from tests.support.servers import create_database, drop_database


@contextmanager
def own_store(run_id: str, purpose: str):
    name = f"escale_test_{run_id}_notify_{purpose}"
    url = create_database(name)
    upgrade(url)
    pool = open_pool(url, 8)
    pool.wait()
    try:
        yield NotifyStore(pool)
    finally:
        pool.close()
        drop_database(name)
