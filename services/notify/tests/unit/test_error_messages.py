"""The notify service's error messages: every one in French and English, and
every raise site naming a catalogue key with the parameters its templates use."""

from __future__ import annotations

import ast
import pathlib

import pytest

from notify.domain import error_messages, errors
from notify.domain.preferences import from_row

pytestmark = pytest.mark.unit

PACKAGE = pathlib.Path(errors.__file__).resolve().parents[1]


@pytest.mark.parametrize("key", sorted(error_messages.MESSAGES))
def test_every_message_has_both_languages_with_the_same_placeholders(key):
    templates = error_messages.MESSAGES[key]
    assert set(templates) == set(error_messages.LANGUAGES)
    assert all(templates[lang].strip() for lang in error_messages.LANGUAGES)
    assert (error_messages.placeholders(templates["fr"])
            == error_messages.placeholders(templates["en"]))


def test_every_translated_word_has_both_languages():
    for word, forms in error_messages.WORDS.items():
        assert set(forms) == set(error_messages.LANGUAGES), word


def _message_uses():
    """``(where, key, keyword names)`` of every key given to an error or ``msg``."""
    error_names = {name for name, value in vars(errors).items()
                   if isinstance(value, type) and issubclass(value, errors.NotifyError)}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            first = node.args[0]
            where = f"{path.relative_to(PACKAGE)}:{node.lineno}"
            if name == "msg" and isinstance(first, ast.Constant):
                yield where, first.value, {k.arg for k in node.keywords}
            elif name in error_names:
                if isinstance(first, ast.Constant):
                    yield where, first.value, set()
                elif not (isinstance(first, ast.Call) and getattr(first.func, "id", "") == "msg"):
                    # A sentence built in place (an f-string...) would reach users untranslated.
                    yield where, ast.unparse(first), None


def test_every_raise_site_names_a_catalogue_key_with_its_parameters():
    uses = list(_message_uses())
    assert len(uses) > 25  # the scan does find the raise sites
    for where, key, params in uses:
        assert params is not None, f"{where}: {key} is not a catalogue key or msg(...)"
        assert key in error_messages.MESSAGES, f"{where}: unknown message key {key!r}"
        assert params == error_messages.placeholders(error_messages.MESSAGES[key]["en"]), where


def test_errors_speak_french_by_default_and_the_current_language_otherwise():
    with pytest.raises(errors.Invalid) as french:
        from_row(None).updated({"reminder": "never"})
    assert french.value.message == ("reminder doit valoir day_before (la veille), morning_of "
                                    "(le matin même) ou none (aucun).")
    assert french.value.args[0] == "invalid" and french.value.details["field"] == "reminder"
    token = error_messages.speaking("en")
    try:
        with pytest.raises(errors.Invalid) as english:
            from_row(None).updated({"reminder": "never"})
        dead = errors.InvalidState(error_messages.msg("this_message_is_status_not_dead",
                                                      status="sent"))
    finally:
        error_messages.reset(token)
    assert english.value.message == "reminder must be day_before, morning_of or none."
    assert dead.message == "This message is sent, not dead-lettered."
