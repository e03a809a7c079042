"""The HTTP API, one module per area; every operation is declared in ``api``."""

from __future__ import annotations

from ..openapi import Registry

api = Registry()

# Importing the modules registers their operations, in this order in the document.
from . import bookings, catalog, people, admin, notifications, bots, presence, devices  # noqa: E402,F401
from . import feeds  # noqa: E402,F401
from . import plans, reports  # noqa: E402,F401
from . import privacy  # noqa: E402,F401
from . import calendars  # noqa: E402,F401
from . import tokens  # noqa: E402,F401
