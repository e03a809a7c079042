"""One table maps error codes to HTTP; remote errors are recognised by exc_path."""

from __future__ import annotations

import pytest

from gateway.errors import STATUS, domain_error
from gateway.rpc import RemoteError

pytestmark = pytest.mark.unit

# docs/architecture.md, "Errors on the wire"
CONTRACT = {
    "not_found": 404, "forbidden": 403, "restricted_resource": 403,
    "invalid": 422, "import_rejected": 422, "idempotency_key_reused": 422,
    "too_far_ahead": 422, "in_the_past": 422, "too_long": 422, "outside_opening_hours": 422,
    "site_closed": 422, "public_holiday": 422, "check_in_not_open": 422,
    "recurrence_too_long": 422,
    "resource_already_booked": 409, "person_already_has_desk": 409, "invalid_state": 409,
    "not_empty": 409,
}


@pytest.mark.parametrize("code, status", sorted(CONTRACT.items()))
def test_contract_codes(code, status):
    assert STATUS[code] == status


def remote(path, args):
    return RemoteError("booking", "m", {"exc_type": "X", "exc_path": path, "exc_args": args,
                                        "value": "v"})


def test_domain_error_keeps_code_message_and_details():
    conflict = {"id": "b1", "start": "s", "end": "e", "resource_id": "r"}
    assert domain_error(remote("booking.domain.errors.ResourceAlreadyBooked",
                               ["resource_already_booked", "Déjà réservé.",
                                {"conflict": conflict}])) == \
        (409, "resource_already_booked", "Déjà réservé.", {"conflict": conflict})


@pytest.mark.parametrize("path, args", [
    ("builtins.ValueError", ["not_found", "x", {}]),
    ("nameko.exceptions.MethodNotFound", ["create_booking"]),
    ("booking.domain.errors.Odd", "not a list"),
    ("booking.domain.errors.Odd", [1, 2, 3]),
    (None, None),
])
def test_anything_else_is_not_a_domain_error(path, args):
    assert domain_error(remote(path, args)) is None


def test_unknown_domain_code_is_a_client_error():
    status, code, _, _ = domain_error(remote("booking.domain.errors.New", ["brand_new", "m", {}]))
    assert (status, code) == (400, "brand_new")
