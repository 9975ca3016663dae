"""What full-text search finds, as pure functions: tokens, queries, the exact check, snippets.

A query is words separated by spaces; a notice matches when every word occurs in its text
(title, body, metadata values, attachment names and, once stored, attachment text) as a
substring, Latin letters in either case and full-width forms as their plain ones (NFKC).
That is what a reader expects of Ctrl-F, and what the search feed did before there was an
index.

The index holds, per run of Han characters, every two-character window (a bigram) and
the run's last character; per run of other letters and digits, the word. A two-character
query word is one bigram, a longer one every bigram in it, a single character the prefix
of a bigram or that last character, a Latin word the prefix of a word. So the index finds
every notice a word occurs in (Latin words from their first letter: `stem` finds `STEM`
and `stems`, not `xstem`); `matches` then drops those where the bigrams occur apart.
A dictionary segmenter (jieba, rjieba) was measured and not taken: it cuts a word it does
not know (双减 in some contexts, new policy names) differently in the query and in the
text and so misses notices, and a new dictionary would silently change what the index
holds; bigrams need no dictionary and miss nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

MAX_QUERY = 100
"""Longest query, in characters: a query comes from any URL."""
MAX_WORD = 64
"""Longer runs of letters (base64, URLs) are cut: nobody searches for their middle."""
SNIPPET_CONTEXT = 40
"""Characters of text shown before and after the first match in a snippet."""

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_SPACES = re.compile(r"\s+")
_HAN_WORD = re.compile(rf"^[{_HAN}]+$")
_RUNS = re.compile(rf"([{_HAN}]+)|((?:(?![{_HAN}])[^\W_])+)")


@dataclass(frozen=True)
class Term:
    """One token the index must hold; `prefix`: any token starting with it."""

    text: str
    prefix: bool = False


@dataclass(frozen=True)
class Query:
    """Normalised words (all must occur) and the index terms that find them."""

    text: str
    words: tuple[str, ...]
    terms: tuple[Term, ...]

    @property
    def exact(self) -> bool:
        """Whether the index alone answers it: a word of one or two Han characters is in
        a text exactly when its term is in the text's tokens (longer words' bigrams may
        stand apart, Latin words may sit inside longer ones)."""
        return all(len(w) <= 2 and _HAN_WORD.match(w) for w in self.words)


def normalize(text: str) -> str:
    """What search compares: NFKC (full-width ＡＢ１ as AB1) and lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def tokens(text: str) -> list[str]:
    """The index tokens of `text`, in order (duplicates kept; the backends drop them)."""
    out: list[str] = []
    for han, word in _RUNS.findall(normalize(text)):
        if han:
            out.extend(han[k : k + 2] for k in range(len(han) - 1))
            out.append(han[-1])
        else:
            out.append(word[:MAX_WORD])
    return out


def parse_query(text: str) -> Query:
    """The query of a search box. ValueError for one that is empty, too long or has
    nothing to search for (only punctuation); the message is for the user."""
    phrase = " ".join(text.split())
    if not phrase:
        raise ValueError("搜索需要关键词")
    if len(phrase) > MAX_QUERY:
        raise ValueError(f"关键词不能超过 {MAX_QUERY} 个字")
    words: list[str] = []
    terms: dict[Term, None] = {}
    for word in dict.fromkeys(normalize(phrase).split()):
        found = _word_terms(_RUNS.findall(word))
        if found:
            words.append(word)
            terms.update(dict.fromkeys(found))
    if not terms:
        raise ValueError("关键词里没有可搜索的字词")
    return Query(phrase, tuple(words), tuple(terms))


def _word_terms(runs: list[tuple[str, str]]) -> list[Term]:
    """The terms of a query word's runs (Han, other). A run that another follows ends
    where the text's run ends, so its term is whole, not a prefix (第4321号: 第 and 4321).
    One Han character last after other runs is left to the exact check: as a prefix it
    would match nearly every document."""
    terms: list[Term] = []
    for k, (han, other) in enumerate(runs):
        last = k == len(runs) - 1
        if other:
            terms.append(Term(other[:MAX_WORD], prefix=last))
        elif len(han) > 1:
            terms.extend(Term(han[i : i + 2]) for i in range(len(han) - 1))
        elif not last or k == 0:
            terms.append(Term(han, prefix=last))
    return terms


def document_text(
    title: str,
    body: str,
    meta: Mapping[str, str],
    attachment_names: Iterable[str],
    extra: Iterable[str] = (),
) -> str:
    """Everything of a version that search reads, one part per line. `extra`: text that
    is not in the version's record (attachment text, once attachments are read)."""
    return "\n".join([title, body, *meta.values(), *attachment_names, *extra])


def matches(query: Query, text: str) -> bool:
    """Whether every word of `query` occurs in `text` (the exact check after the index)."""
    folded = normalize(text)
    return all(word in folded for word in query.words)


Segment = tuple[str, bool]
"""A piece of a snippet and whether it is a match (to highlight)."""


def snippet(query: Query, parts: Sequence[str], context: int = SNIPPET_CONTEXT) -> list[Segment]:
    """The first of `parts` (body, then title, then metadata …) where a word occurs, cut
    to `context` characters around the first match, every match in it marked; the start
    of the first part when no word occurs in any (a match in attachment text)."""
    for part in parts:
        spans = _spans(query, part)
        if spans:
            start = max(0, spans[0][0] - context)
            end = min(len(part), spans[0][1] + context)
            return _segments(part, start, end, [s for s in spans if s[1] <= end])
    first = next((p for p in parts if p.strip()), "")
    return _segments(first, 0, min(len(first), 2 * context), [])


def snippet_text(segments: Sequence[Segment]) -> str:
    return "".join(text for text, _ in segments)


def _segments(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> list[Segment]:
    out: list[Segment] = [("…", False)] if start > 0 else []
    at = start
    for left, right in spans:
        left = max(left, at)
        if left >= right:
            continue
        if left > at:
            out.append((_flat(text[at:left]), False))
        out.append((_flat(text[left:right]), True))
        at = right
    if end > at:
        out.append((_flat(text[at:end]), False))
    if end < len(text):
        out.append(("…", False))
    return out


def _flat(text: str) -> str:
    """Line breaks and runs of spaces as one space: a snippet is one line."""
    return _SPACES.sub(" ", text)


def _spans(query: Query, text: str) -> list[tuple[int, int]]:
    """Where the words occur in `text`, as sorted (start, end) of the original string."""
    folded, origin = _folded_with_origin(text)
    spans: list[tuple[int, int]] = []
    for word in query.words:
        at = folded.find(word)
        while at >= 0:
            end = at + len(word)
            spans.append((origin[at], origin[end - 1] + 1))
            at = folded.find(word, end)
    return sorted(spans)


def _folded_with_origin(text: str) -> tuple[str, list[int]]:
    """normalize(text) and, per character of it, the index of the character it came from."""
    folded = normalize(text)
    if len(folded) == len(text):  # nearly always: each character folds to one
        return folded, list(range(len(text)))
    pieces: list[str] = []
    origin: list[int] = []
    for k, char in enumerate(text):
        piece = normalize(char)
        pieces.append(piece)
        origin.extend([k] * len(piece))
    return "".join(pieces), origin
