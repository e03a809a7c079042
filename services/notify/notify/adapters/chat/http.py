"""One HTTP POST with the failure rules every chat backend shares."""

from __future__ import annotations

import requests

from ..transport import DeliveryFailed


def post_json(session: requests.Session, url: str, body: dict, timeout: float,
              headers: dict | None = None, method: str = "POST") -> requests.Response:
    try:
        response = session.request(method, url, json=body, timeout=timeout, headers=headers)
    except requests.RequestException as exc:
        raise DeliveryFailed(f"unreachable: {type(exc).__name__}") from None
    if response.status_code == 429 or response.status_code >= 500:
        raise DeliveryFailed(f"HTTP {response.status_code}")
    if response.status_code >= 400:
        raise DeliveryFailed(f"HTTP {response.status_code}", permanent=True)
    return response
