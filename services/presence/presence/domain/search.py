"""Finding people by what someone types: "helene", "dupon", "Dupond RH".

Names are folded (accents and case dropped, "œ" -> "oe") and cut into
words at spaces, hyphens and apostrophes; each name part is also kept
joined ("marie-hélène" -> "marie", "helene", "mariehelene"), so
hyphenated and compound names are found by any part or by the whole.
Each word of the query must match a word of the person (their names, the
local part of their email, or their department and job title, which tell
homonyms apart: "dupont finances"):

    exact word                       1.0
    start of a word ("dupon")        0.85 .. 0.95 (longer prefixes score more)
    inside a word, 4+ letters        0.7
    one or two typing errors         0.65 / 0.55 (Damerau-Levenshtein; 1 error
                                     allowed from 4 letters, 2 from 7)

A person's score is the mean of their best match per query word, a match
in department or job title counting 0.8 of its value. Fuzzy candidates
come from a trigram index, so a search costs a few dictionary look-ups,
not a scan of the directory.
"""

from __future__ import annotations

import bisect
import unicodedata
from dataclasses import dataclass
from typing import Iterable

_SPECIAL = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "ø": "o",
                          "Ø": "o", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d"})
DEPARTMENT_WEIGHT = 0.8
MAX_QUERY_WORDS = 6


def fold(text: str) -> str:
    """Lower case, no accents, every non-alphanumeric character a space."""
    text = unicodedata.normalize("NFKD", (text or "").translate(_SPECIAL))
    out = []
    for ch in text:
        if unicodedata.combining(ch):
            continue
        out.append(ch.lower() if ch.isalnum() else " ")
    return "".join(out)


def words(text: str) -> list[str]:
    return fold(text).split()


def name_words(*names: str) -> set[str]:
    """Words of names, plus each name (and each hyphenated part) joined up."""
    out: set[str] = set()
    for name in names:
        if not name:
            continue
        parts = words(name)
        out.update(parts)
        if len(parts) > 1:
            out.add("".join(parts))
        for chunk in (name or "").split():
            pieces = words(chunk)
            if len(pieces) > 1:
                out.add("".join(pieces))
    return out


def _trigrams(word: str) -> set[str]:
    padded = f"${word}$"
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


def distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, or limit+1 if above."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] | None = None
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        best = current[0]
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if previous2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
            best = min(best, value)
        if best > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def allowed_errors(word: str) -> int:
    return 0 if len(word) < 4 else 1 if len(word) < 7 else 2


@dataclass(frozen=True)
class Match:
    person_id: str
    score: float


class Index:
    """An in-memory index of a directory (a few thousand people: milliseconds to build)."""

    def __init__(self, people: Iterable[dict]):
        self.sort_keys: dict[str, str] = {}
        self._by_word: dict[str, set[str]] = {}      # name and email words -> person ids
        self._by_dept_word: dict[str, set[str]] = {}  # department / job title words
        for person in people:
            pid = person["id"]
            self.sort_keys[pid] = fold(person.get("display_name") or "") + "\x00" + pid
            names = name_words(person.get("display_name", ""), person.get("given_name", ""),
                               person.get("family_name", ""))
            local = (person.get("email") or "").partition("@")[0]
            names |= name_words(local)
            for w in names:
                self._by_word.setdefault(w, set()).add(pid)
            for w in name_words(person.get("department", ""), person.get("job_title", "")):
                self._by_dept_word.setdefault(w, set()).add(pid)
        self._vocab = sorted(self._by_word)
        self._dept_vocab = sorted(self._by_dept_word)
        self._grams = self._gram_index(self._vocab)
        self._dept_grams = self._gram_index(self._dept_vocab)

    def __len__(self) -> int:
        return len(self.sort_keys)

    @staticmethod
    def _gram_index(vocab: list[str]) -> dict[str, set[str]]:
        grams: dict[str, set[str]] = {}
        for word in vocab:
            for g in _trigrams(word):
                grams.setdefault(g, set()).add(word)
        return grams

    @staticmethod
    def _word_scores(query: str, vocab: list[str], grams: dict[str, set[str]]) -> dict[str, float]:
        scores: dict[str, float] = {}
        # prefixes (the exact word included)
        i = bisect.bisect_left(vocab, query)
        while i < len(vocab) and vocab[i].startswith(query):
            word = vocab[i]
            scores[word] = 1.0 if word == query else 0.85 + 0.1 * len(query) / len(word)
            i += 1
        if len(query) < 3:
            return scores
        limit = allowed_errors(query)
        candidates: set[str] = set()
        for g in _trigrams(query):
            candidates |= grams.get(g, set())
        for word in candidates:
            if word in scores:
                continue
            if len(query) >= 4 and query in word:
                scores[word] = 0.7
                continue
            if limit:
                d = distance(query, word, limit)
                if d <= limit:
                    scores[word] = 0.75 - 0.1 * d
                    continue
                # a misspelled start of a longer word ("dupn" for "dupont")
                if len(word) > len(query) and distance(query, word[:len(query)], 1) <= 1:
                    scores[word] = 0.5
        return scores

    def search(self, q: str, limit: int = 10) -> list[Match]:
        query_words = words(q)[:MAX_QUERY_WORDS]
        if not query_words:
            return []
        totals: dict[str, float] | None = None
        for qw in query_words:
            best: dict[str, float] = {}
            for word, score in self._word_scores(qw, self._vocab, self._grams).items():
                for pid in self._by_word[word]:
                    if score > best.get(pid, 0.0):
                        best[pid] = score
            for word, score in self._word_scores(qw, self._dept_vocab, self._dept_grams).items():
                weighted = score * DEPARTMENT_WEIGHT
                for pid in self._by_dept_word[word]:
                    if weighted > best.get(pid, 0.0):
                        best[pid] = weighted
            if totals is None:
                totals = best
            else:
                totals = {pid: totals[pid] + s for pid, s in best.items() if pid in totals}
            if not totals:
                return []
        n = len(query_words)
        ranked = sorted(totals.items(), key=lambda kv: (-kv[1], self.sort_keys.get(kv[0], "")))
        return [Match(pid, round(total / n, 3)) for pid, total in ranked[:limit]]
