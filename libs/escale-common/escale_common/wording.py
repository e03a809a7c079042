"""Messages in the caller's language, the same way in every service.

A service's domain errors carry a catalogue key and named parameters
(``msg``), and are worded in the caller's language: nameko's ``language``
context data, sent by the gateway from ``Accept-Language``, which a worker
makes current (``speaking``) for its whole run. Without one, French.

Each service keeps its own catalogue (its templates, and the words of its
own that parameters may hold, such as a booking status) and binds it with
:class:`Catalogue`; this module holds the mechanics once.
"""

from __future__ import annotations

import contextvars
import string
from typing import Mapping, NamedTuple

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"


class Message(NamedTuple):
    """A catalogue key and the parameters its templates name."""

    key: str
    params: dict


def msg(key: str, /, **params) -> Message:
    return Message(key, params)


def pick(language: str | None) -> str:
    """One of ``LANGUAGES`` from a caller's tag (``en-GB`` -> ``en``), else the default."""
    if isinstance(language, str):
        lang = language.strip().lower()[:2]
        if lang in LANGUAGES:
            return lang
    return DEFAULT_LANGUAGE


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class Catalogue:
    """One service's templates, rendered in the worker's current language.

    ``translated_params`` name the parameters whose value is one of the
    service's own words (in ``words``), translated with the sentence around
    them.
    """

    def __init__(self, service: str, messages: Mapping[str, Mapping[str, str]],
                 words: Mapping[str, Mapping[str, str]], translated_params: frozenset[str]):
        self.messages = messages
        self.words = words
        self.translated_params = translated_params
        # One per greenthread: each nameko worker runs in its own greenlet,
        # which has its own context, so concurrent callers never see each
        # other's language.
        self._current: contextvars.ContextVar[str | None] = contextvars.ContextVar(
            f"escale_{service}_language", default=None)

    def current_language(self) -> str:
        return pick(self._current.get())

    def speaking(self, language: str | None) -> contextvars.Token:
        """Make ``language`` the current one; give the token to ``reset``."""
        return self._current.set(pick(language))

    def reset(self, token: contextvars.Token) -> None:
        self._current.reset(token)

    def render(self, key: str, language: str | None = None, /, **params) -> str:
        """The message ``key`` in ``language`` (the current one when None)."""
        lang = pick(language) if language is not None else self.current_language()
        words = {name: self.words[value][lang] for name, value in params.items()
                 if name in self.translated_params and isinstance(value, str) and value in self.words}
        return self.messages[key][lang].format(**{**params, **words})

    def text(self, message: str | Message, /, **params) -> str:
        """A key (with ``params``) or a ``Message``, rendered in the current language."""
        if isinstance(message, Message):
            return self.render(message.key, None, **message.params)
        return self.render(message, None, **params)
