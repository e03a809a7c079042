"""Every error code a client can receive has a status and words in French and English.

There is no registry of codes: the services' domain errors are classes with a
``code`` in each ``<service>/domain/errors.py``, raised from anywhere in the
service, and the gateway's own are ``ApiError(code, key)``, ``invalid(field,
key)`` and webhook ``Refused(code)``. So the source is read: a code added to
a service (calendar sync, tablets, anything) without its line in
``errors.STATUS`` and its ``error.<code>`` entry in ``i18n.MESSAGES`` fails
here, as does a gateway message key missing from the catalogue.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from gateway import i18n
from gateway.errors import DOMAIN_ERROR_PREFIX, STATUS

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"booking": ROOT / "services/booking/booking",
            "presence": ROOT / "services/presence/presence",
            "notify": ROOT / "services/notify/notify"}
GATEWAY = ROOT / "gateway/gateway"


def _error_classes(path: Path) -> dict[str, str]:
    """Class name -> code in one errors module (a class without ``code`` inherits it)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own: dict[str, str | None] = {}
    parents: dict[str, list[str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        parents[node.name] = [b.id for b in node.bases if isinstance(b, ast.Name)]
        own[node.name] = None
        for item in node.body:
            if (isinstance(item, ast.Assign) and len(item.targets) == 1
                    and isinstance(item.targets[0], ast.Name) and item.targets[0].id == "code"
                    and isinstance(item.value, ast.Constant)):
                own[node.name] = item.value.value

    def code_of(name: str) -> str | None:
        if own.get(name):
            return own[name]
        for parent in parents.get(name, []):
            if parent in own and (found := code_of(parent)):
                return found
        return None

    return {name: code for name in own if (code := code_of(name))}


def _sources(folder: Path):
    for path in sorted(folder.rglob("*.py")):
        yield path, path.read_text(encoding="utf-8")


def _raised_domain_codes() -> dict[str, set[str]]:
    """Code -> where it comes from: every class of the errors modules that is
    built somewhere in its service (or is a leaf, built or not yet)."""
    found: dict[str, set[str]] = {}
    for service, package in SERVICES.items():
        classes = _error_classes(package / "domain/errors.py")
        bases = _bases(package / "domain/errors.py")
        sources = list(_sources(package))
        for name, code in classes.items():
            built = re.compile(rf"(?<![\w.])(?:errors\.)?{name}\(")
            used = any(built.search(line) and not line.lstrip().startswith("class ")
                       for _, text in sources for line in text.splitlines())
            if used or name not in bases:
                found.setdefault(code, set()).add(f"{service}.{name}")
    return found


def _bases(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {b.id for node in tree.body if isinstance(node, ast.ClassDef)
            for b in node.bases if isinstance(b, ast.Name)}


DOMAIN_CODES = _raised_domain_codes()


def test_the_scan_sees_the_codes_services_raise():
    # Guards the scanner itself: these are raised today (booking rules, calendar
    # sync's invalid_state, notify's dead letters, presence's validation).
    for code in ("resource_already_booked", "too_far_ahead", "invalid_state", "not_empty",
                 "invalid", "forbidden", "not_found", "check_in_not_open"):
        assert code in DOMAIN_CODES
    assert "domain_error" not in DOMAIN_CODES and "notify_error" not in DOMAIN_CODES


@pytest.mark.parametrize("code", sorted(DOMAIN_CODES))
def test_every_domain_code_has_a_client_status_and_words_in_both_languages(code):
    assert code in STATUS, f"{code} ({', '.join(sorted(DOMAIN_CODES[code]))}) has no HTTP status"
    assert 400 <= STATUS[code] < 500
    entry = i18n.MESSAGES.get(f"error.{code}")
    assert entry is not None, f"{code} has no error.{code} entry in i18n.MESSAGES"
    assert entry["fr"].strip() and entry["en"].strip() and entry["fr"] != entry["en"]
    assert i18n.error_message(code, "en") == entry["en"]
    assert i18n.error_message(code) == entry["fr"]


def test_every_service_is_recognised_as_a_domain_error_source():
    for service in SERVICES:
        assert f"{service}.domain.errors." in DOMAIN_ERROR_PREFIX


def _gateway_uses() -> tuple[set[str], set[str]]:
    """(codes, message keys) the gateway's own errors use."""
    codes, keys = set(), set()
    for _, text in _sources(GATEWAY):
        for code, key in re.findall(r'ApiError\(\s*"([a-z_]+)",\s*"([a-z_]+)"', text):
            codes.add(code)
            keys.add(key)
        keys.update(re.findall(r'(?<![\w.])invalid\(\s*"[^"]+",\s*"([a-z_]+)"', text))
        refused = re.findall(r'Refused\(\s*"([a-z_]+)"\)', text)
        codes.update(refused)
        keys.update(refused)  # routes/bots.py answers ApiError(code, code)
        keys.update(re.findall(r'i18n\.message\(\s*"([a-z_.]+)"', text))
    return codes, keys


GATEWAY_CODES, GATEWAY_KEYS = _gateway_uses()


def test_the_gateway_scan_sees_its_errors():
    assert {"unauthorized", "invalid", "not_found", "bad_signature"} <= GATEWAY_CODES
    assert {"auth_missing", "feed_not_found", "bad_idempotency_key", "service_timeout"} <= GATEWAY_KEYS


@pytest.mark.parametrize("code", sorted(GATEWAY_CODES))
def test_every_gateway_error_code_has_a_status(code):
    assert code in STATUS


@pytest.mark.parametrize("key", sorted(GATEWAY_KEYS))
def test_every_gateway_message_key_is_in_the_catalogue_in_both_languages(key):
    entry = i18n.MESSAGES.get(key)
    assert entry is not None, f"{key} is not in i18n.MESSAGES"
    assert entry["fr"].strip() and entry["en"].strip()


def test_a_domain_error_without_a_message_gets_the_catalogues_in_the_callers_language():
    from gateway.errors import domain_error
    from gateway.rpc import RemoteError

    def remote(message):
        return RemoteError("booking", "sync_now", {
            "exc_type": "InvalidState", "exc_path": "booking.domain.errors.InvalidState",
            "exc_args": ["invalid_state", message, '{"status": "no_connection"}'], "value": ""})

    assert domain_error(remote(" "), "en") == (
        409, "invalid_state", i18n.MESSAGES["error.invalid_state"]["en"], {"status": "no_connection"})
    assert domain_error(remote(""))[2].startswith("Impossible dans l'état actuel")
    # A service's own message says more: it passes through.
    assert domain_error(remote("Connect the site to a calendar server first."), "fr")[2] == \
        "Connect the site to a calendar server first."


# Booking and notify word their messages in the caller's language from a
# catalogue of keys (``booking/domain/messages.py``, ``notify/domain/error_messages.py``):
# an error built with a sentence would reach a French agent in English.
KEYED_SERVICES = ("booking", "notify")
KEY = re.compile(r"[a-z][a-z0-9_]*")


def _sentences_given_to_errors(service: str) -> tuple[int, list[str]]:
    """(errors built, those whose message is a sentence rather than a key or ``msg(...)``)."""
    package = SERVICES[service]
    classes = set(_error_classes(package / "domain/errors.py")) - {"ImportRejected"}
    built, sentences = 0, []
    for path, text in _sources(package):
        for node in ast.walk(ast.parse(text)):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name not in classes:
                continue
            built += 1
            first = node.args[0]
            keyed = ((isinstance(first, ast.Constant) and isinstance(first.value, str)
                      and KEY.fullmatch(first.value))
                     or (isinstance(first, ast.Call) and getattr(first.func, "id", None) == "msg"))
            if not keyed:
                sentences.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(first)}")
    return built, sentences


@pytest.mark.parametrize("service", KEYED_SERVICES)
def test_booking_and_notify_errors_are_built_from_catalogue_keys_not_sentences(service):
    built, sentences = _sentences_given_to_errors(service)
    assert built > 20  # the scan does see the raise sites
    assert sentences == []
