import pytest

from booking.adapters.db import open_pool
from booking.adapters.store import BookingStore


@pytest.fixture(scope="session")
def store(booking_db_url):
    pool = open_pool(booking_db_url, 30)
    yield BookingStore(pool)
    pool.close()
