"""The booking service's messages: every one in French and English, and every
raise site naming a catalogue key with the parameters its templates use."""

from __future__ import annotations

import ast
import pathlib

import pytest

from booking.domain import errors, messages
from booking.domain.imports import parse_people

pytestmark = pytest.mark.unit

PACKAGE = pathlib.Path(messages.__file__).resolve().parents[1]


@pytest.mark.parametrize("key", sorted(messages.MESSAGES))
def test_every_message_has_both_languages_with_the_same_placeholders(key):
    templates = messages.MESSAGES[key]
    assert set(templates) == set(messages.LANGUAGES)
    assert all(templates[lang].strip() for lang in messages.LANGUAGES)
    assert messages.placeholders(templates["fr"]) == messages.placeholders(templates["en"])


def test_every_translated_word_has_both_languages():
    for word, forms in messages.WORDS.items():
        assert set(forms) == set(messages.LANGUAGES), word


def _message_uses():
    """``(where, key, keyword names)`` of every key given to an error, ``msg`` or ``text``."""
    error_names = {name for name, value in vars(errors).items()
                   if isinstance(value, type) and issubclass(value, errors.DomainError)}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            first = node.args[0]
            where = f"{path.relative_to(PACKAGE)}:{node.lineno}"
            if name in ("msg", "text") and isinstance(first, ast.Constant):
                yield where, first.value, {k.arg for k in node.keywords}
            elif name in error_names and name != "ImportRejected":
                if isinstance(first, ast.Constant):
                    yield where, first.value, set()
                elif not (isinstance(first, ast.Call) and getattr(first.func, "id", "") == "msg"):
                    # A sentence built in place (an f-string...) would reach users untranslated.
                    yield where, ast.unparse(first), None


def test_every_raise_site_names_a_catalogue_key_with_its_parameters():
    uses = list(_message_uses())
    assert len(uses) > 150  # the scan does find the raise sites
    for where, key, params in uses:
        assert params is not None, f"{where}: {key} is not a catalogue key or msg(...)"
        assert key in messages.MESSAGES, f"{where}: unknown message key {key!r}"
        assert params == messages.placeholders(messages.MESSAGES[key]["en"]), where


def test_errors_speak_french_by_default_and_the_current_language_otherwise():
    taken = errors.ResourceAlreadyBooked(messages.msg("resource_is_already_booked_at_that",
                                                      resource="Bureau 12"), conflict={"id": "b1"})
    assert taken.message == "Quelqu'un a déjà réservé Bureau 12 sur ce créneau."
    assert taken.args[0] == "resource_already_booked"
    token = messages.speaking("en-GB")
    try:
        cancelled = errors.InvalidState(messages.msg("this_booking_is_status", status="cancelled"))
    finally:
        messages.reset(token)
    assert cancelled.message == "This booking is cancelled."
    assert errors.InvalidState(messages.msg("this_booking_is_status", status="cancelled")).message \
        == "Cette réservation est dans l'état : annulée."


def test_csv_line_errors_follow_the_current_language():
    text = "email,given_name,family_name,language\nnot-an-email,Ada,Lovelace,de\n"
    with pytest.raises(errors.ImportRejected) as french:
        parse_people(text)
    assert [e["message"] for e in french.value.details["errors"]] == [
        "'not-an-email' n'est pas une adresse e-mail.",
        "Langue inconnue 'de' : utilisez fr ou en.",
    ]
    assert french.value.message.startswith("2 erreur(s) dans le fichier ; rien n'a été importé.")
    token = messages.speaking("en")
    try:
        with pytest.raises(errors.ImportRejected) as english:
            parse_people(text)
    finally:
        messages.reset(token)
    assert english.value.details["errors"][1]["message"] == "Unknown language 'de': use fr or en."
    assert english.value.message.startswith("2 error(s) in the file; nothing was imported.")
