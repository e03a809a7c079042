"""Every gateway message exists in French and English; the language follows Accept-Language."""

from __future__ import annotations

import string

import pytest

from gateway import i18n

pytestmark = pytest.mark.unit


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(i18n.MESSAGES))
def test_every_message_in_both_languages_with_the_same_placeholders(key):
    entry = i18n.MESSAGES[key]
    assert set(entry) == {"fr", "en"}
    assert entry["fr"].strip() and entry["en"].strip()
    assert _fields(entry["fr"]) == _fields(entry["en"])


@pytest.mark.parametrize("header, expected", [
    (None, "fr"),
    ("", "fr"),
    ("en", "en"),
    ("en-GB,en;q=0.9", "en"),
    ("de-DE,de;q=0.9,en;q=0.5", "en"),
    ("fr-FR,fr;q=0.9,en;q=0.8", "fr"),
    ("en;q=0.4,fr;q=0.8", "fr"),
    ("de", "fr"),
    ("*", "fr"),
    ("en;q=garbage", "fr"),
])
def test_language_choice(header, expected):
    assert i18n.pick_language(header) == expected


def test_message_fills_parameters():
    assert "42" in i18n.message("too_large", "en", limit=42)
    assert i18n.message("too_large", "xx", limit=1).startswith("Le corps")
