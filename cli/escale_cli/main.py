"""``escale``: the operator's command line.

    escale db upgrade                       create the databases if missing, migrate,
                                            then declare the broker's queues (as below)
    escale broker setup                     declare every consumer queue, binding and
                                            dead-letter queue (migrating classic queues)
    escale broker replay SERVICE            send dlq-SERVICE's messages back to their queues
    escale demo seed                        import the demo town hall (idempotent)
    escale demo week [--days N]             its colleagues plan, book and check in for the
                                            coming working days (services running; idempotent)
    escale import resources|people FILE     import a CSV file (``-`` reads stdin)
    escale token create --email E --role R  issue an API token, printed alone on stdout
    escale token list | revoke ID
    escale retention run                    delete what is past its retention period now

Settings come from ``ESCALE_BOOKING_DATABASE_URL``,
``ESCALE_GATEWAY_DATABASE_URL`` (and ``ESCALE_NOTIFY_DATABASE_URL``,
``ESCALE_PRESENCE_DATABASE_URL`` for ``db upgrade``), ``ESCALE_AMQP_URI``. Failures are one clear message on standard
error and exit status 1 (2 for a bad command line), never a traceback (set
``ESCALE_LOG_LEVEL=DEBUG`` to see one).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback

from . import commands
from .databases import CommandError
from .settings import Settings

ROLES = ("agent", "site_admin", "admin", "device", "bot")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="escale",
        description="Escale operator tool: migrations, demo data, CSV imports, API tokens.",
    )
    groups = parser.add_subparsers(dest="group", metavar="COMMAND", required=True)

    db = groups.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="command", metavar="ACTION", required=True)
    db_commands.add_parser(
        "upgrade",
        help="create the booking, gateway, notify and presence databases if missing, migrate "
             "them, then declare the broker's queues (`broker setup`)",
    )
    broker = groups.add_parser("broker", help="RabbitMQ queues")
    broker_commands = broker.add_subparsers(dest="command", metavar="ACTION", required=True)
    broker_commands.add_parser(
        "setup",
        help="declare every service's quorum queues, bindings and dead-letter queues, "
             "so no event is lost before a consumer first starts (idempotent)",
    )
    replay = broker_commands.add_parser(
        "replay", help="send a service's dead letters (dlq-SERVICE) back to the queues they died in")
    replay.add_argument("service", metavar="SERVICE", help="presence, notify...")
    replay.add_argument("--limit", type=int, default=1000, help="at most this many (default: %(default)s)")

    demo = groups.add_parser("demo", help="demo data")
    demo_commands = demo.add_subparsers(dest="command", metavar="ACTION", required=True)
    demo_commands.add_parser(
        "seed", help="import the demo town hall site and its ~400 agents (idempotent)"
    )
    week = demo_commands.add_parser(
        "week", help="the demo colleagues plan, book desks and check in for the coming working days, "
                     "through the running services (idempotent)",
    )
    week.add_argument("--days", type=int, default=5, choices=range(1, 21), metavar="N",
                      help="working days from today (1-20, default: %(default)s)")

    imports = groups.add_parser("import", help="import a CSV file; a bad file imports nothing")
    import_commands = imports.add_subparsers(dest="command", metavar="KIND", required=True)
    for what, text in (
        ("resources", "sites, buildings, floors, zones, desks, rooms and equipment"),
        ("people", "people, their teams and memberships"),
    ):
        sub = import_commands.add_parser(what, help=f"import {text}")
        sub.add_argument("file", metavar="FILE.csv", help="UTF-8 CSV file, ',' or ';'; '-' for stdin")
        sub.add_argument(
            "--organisation", default="default", metavar="CODE",
            help="organisation code (default: %(default)s)",
        )

    retention = groups.add_parser("retention", help="personal data past its retention period")
    retention_commands = retention.add_subparsers(dest="command", metavar="ACTION", required=True)
    retention_commands.add_parser(
        "run", help="delete bookings and logs past their retention period now "
                    "(what the services' nightly jobs do; docs/privacy.md)",
    )

    token = groups.add_parser("token", help="API bearer tokens")
    token_commands = token.add_subparsers(dest="command", metavar="ACTION", required=True)
    create = token_commands.add_parser(
        "create", help="issue a token and print it alone on standard output"
    )
    create.add_argument("--email", required=True, help="whose token it is")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument(
        "--site", action="append", default=[], metavar="SITE",
        help="site id or code a site_admin manages (repeatable)",
    )
    create.add_argument("--room", metavar="ROOM", help="room id or code a device is paired to")
    create.add_argument("--label", default="", help="free text to recognise the token later")
    token_commands.add_parser("list", help="list tokens (never their value)")
    revoke = token_commands.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id", metavar="ID")
    return parser


def run(args: argparse.Namespace, settings: Settings, out) -> None:
    key = (args.group, args.command)
    if key == ("db", "upgrade"):
        commands.db_upgrade(settings, out)
        commands.broker_setup(settings, out)
    elif key == ("broker", "setup"):
        commands.broker_setup(settings, out)
    elif key == ("broker", "replay"):
        commands.broker_replay(settings, args.service, args.limit, out)
    elif key == ("demo", "seed"):
        commands.demo_seed(settings, out)
    elif key == ("demo", "week"):
        from . import demo_week

        demo_week.run(settings, args.days, out)
    elif args.group == "import":
        commands.import_file(settings, args.command, args.file, args.organisation, out)
    elif key == ("token", "create"):
        commands.token_create(
            settings, args.email, args.role, args.site, args.room, args.label, out
        )
    elif key == ("retention", "run"):
        from . import retention

        retention.run(settings, out)
    elif key == ("token", "list"):
        commands.token_list(settings, out)
    elif key == ("token", "revoke"):
        commands.token_revoke(settings, args.id, out)
    else:  # pragma: no cover - argparse refuses anything else
        raise CommandError(f"Unknown command: {args.group} {args.command}")


def _report(args, exc: BaseException) -> int:
    """Say what went wrong on standard error; the exit status."""
    import psycopg

    from booking.domain.errors import DomainError, ImportRejected

    err = sys.stderr
    if isinstance(exc, ImportRejected):
        errors = exc.details["errors"]
        name = getattr(args, "file", "the file")
        name = "standard input" if name == "-" else name
        print(f"escale: {name}: {len(errors)} error(s); nothing was imported.", file=err)
        for e in errors:
            where = f"line {e['line']}" + (f", column {e['column']}" if e["column"] else "")
            print(f"{where}: {e['message']}", file=err)
        return 1
    if isinstance(exc, (CommandError, DomainError)):
        print(f"escale: {exc}", file=err)
        return 1
    if isinstance(exc, ValueError):
        print(f"escale: {exc}", file=err)
        return 2
    if isinstance(exc, psycopg.errors.UndefinedTable):
        print(
            "escale: the database has no Escale tables yet: run `escale db upgrade` first.",
            file=err,
        )
        return 1
    if isinstance(exc, psycopg.OperationalError):
        detail = " ".join(str(exc).split()) or type(exc).__name__
        hint = " Run `escale db upgrade` first." if "does not exist" in detail else ""
        stop = "" if detail.endswith((".", "?", "!")) else "."
        print(f"escale: cannot use the database: {detail}{stop}{hint}", file=err)
        return 1
    if isinstance(exc, psycopg.Error):
        print(f"escale: database error: {str(exc).strip().splitlines()[0]}", file=err)
        return 1
    print(f"escale: unexpected error ({type(exc).__name__}): {exc}", file=err)
    return 1


def main(argv: list[str] | None = None) -> int:
    debug = os.environ.get("ESCALE_LOG_LEVEL", "").upper() == "DEBUG"
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    args = build_parser().parse_args(argv)
    try:
        run(args, Settings.from_environ(), sys.stdout)
        sys.stdout.flush()
    except KeyboardInterrupt:
        print("escale: interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `escale token list | head`: the reader left; nothing more to say, and
        # nothing for Python to complain about when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        if debug:
            traceback.print_exc()
        return _report(args, exc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
