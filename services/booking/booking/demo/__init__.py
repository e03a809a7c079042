"""The demo site: a French town hall's administrative centre and its staff.

``demo_csvs()`` returns the demo as the two CSV files an administrator would
import (see ``booking.domain.imports`` for the columns), so seeding goes
through the same importer and the same checks. Everything is drawn with fixed
seeds: the same text on every run, so seeding twice changes nothing.

Import the people first: they create the teams that zones and restricted
desks refer to.

Demo accounts: ``agent.demo@mairie-exemple.fr`` (Camille Demo, team DSI) and
``admin.demo@mairie-exemple.fr`` (Dominique Admin, Direction générale).
"""

from __future__ import annotations

from .site import resources_csv
from .staff import DEMO_ACCOUNTS, people_csv

SITE_CODE = "hdv"
AGENT_EMAIL = DEMO_ACCOUNTS[0]["email"]
ADMIN_EMAIL = DEMO_ACCOUNTS[1]["email"]


def demo_csvs() -> tuple[str, str]:
    """``(resources_csv, people_csv)`` of the demo site."""
    return resources_csv(), people_csv()


__all__ = ["ADMIN_EMAIL", "AGENT_EMAIL", "SITE_CODE", "demo_csvs"]
