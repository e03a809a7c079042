"""Text folding and typo-tolerant keyword matching for the bot's parser.

``fold`` lower-cases and drops accents ("Où" -> "ou"); ``tokens`` splits a
folded text into words, with the few French elisions undone; ``correct``
maps a misspelt keyword to the keyword ("demian" -> "demain") with a
Damerau-Levenshtein distance of 1 (2 for long words), and never touches
short words or words it does not know, so people's names stay as typed.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_APOSTROPHES = str.maketrans({"’": "'", "`": "'", "´": "'", "‘": "'"})


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.lower().replace("œ", "oe").replace("æ", "ae")


# Multi-word expressions turned into one token before splitting.
_PHRASES = [
    (r"\baujourd\s*'?\s*h?ui\b", " aujourdhui "),
    (r"\bapres[\s-]*midi\b", " apresmidi "),
    (r"\bapres[\s-]*demain\b", " apresdemain "),
    (r"\bday after tomorrow\b", " apresdemain "),
    (r"\bs'il (?:te|vous) pla[iî]t\b", " stp "),
    (r"\best[\s-]*ce\s*qu(?:e|')\s*", " estceque "),
    (r"\bqu'est[\s-]*ce\s*qu(?:e|')\s*", " questceque "),
    (r"\bright now\b", " now "),
    (r"\btout de suite\b", " maintenant "),
    # "2pm", "2:30 pm", "10 a.m." -> "2hpm", "2h30pm", "10ham"
    (r"(\d{1,2})(?:[:.h](\d{2}))?\s*([ap])\.?m\.?(?![a-z])",
     lambda m: f" {m.group(1)}h{m.group(2) or ''}{m.group(3)}m "),
    (r"\ben ce moment\b", " maintenant "),
    (r"\bsur place\b", " sursite "),
    (r"\bsur site\b", " sursite "),
    (r"\bon[\s-]site\b", " onsite "),
    (r"\bin the office\b", " onsite "),
    (r"\bat the office\b", " onsite "),
    (r"\bau bureau\b", " sursite "),
    (r"\bmeeting room\b", " room "),
    (r"\bsalle de (?:reunion|reu|conference|conf)\b", " salle "),
    (r"(\d{1,2})\s*[h:]\s*(\d{2})\b", r" \1h\2 "),
    (r"(\d{1,2})\s*h\b", r" \1h "),
]
_PHRASES = [(re.compile(p), r) for p, r in _PHRASES]

# French elisions and English contractions ("l'equipe", "where's", "who's").
_ELISION = re.compile(r"\b(l|d|j|t|qu|c|s|n|m)'")
_CONTRACTION = re.compile(r"\b(where|who|what|it|that|he|she)'s\b")
_WORD = re.compile(r"[a-z0-9]+")


def tokens(folded: str) -> list[str]:
    text = folded
    for pattern, replacement in _PHRASES:
        text = pattern.sub(replacement, text)
    text = _CONTRACTION.sub(r"\1 is", text)
    text = _ELISION.sub(" ", text)
    return _WORD.findall(text)


def _distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (optimal string alignment), stopping above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def similarity(a: str, b: str) -> float:
    """0..1, from the edit distance of the folded texts."""
    a, b = fold(a), fold(b)
    if not a or not b:
        return 0.0
    longest = max(len(a), len(b))
    return 1.0 - _distance(a, b, longest) / longest


def allowed_typos(word: str) -> int:
    if len(word) < 4:
        return 0
    return 1 if len(word) < 8 else 2


@lru_cache(maxsize=4096)
def _correct(word: str, vocabulary: frozenset[str]) -> str:
    if word in vocabulary or word.isdigit():
        return word
    limit = allowed_typos(word)
    if limit == 0:
        return word
    best, best_distance = word, limit + 1
    for known in vocabulary:
        if len(known) < 4:
            continue
        d = _distance(word, known, limit)
        if d < best_distance:
            best, best_distance = known, d
    return best


def correct(word: str, vocabulary: frozenset[str]) -> str:
    return _correct(word, vocabulary)
