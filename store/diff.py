"""Show what changed between two versions of a notice body.

A body is one paragraph per line. Paragraphs are aligned first, so a paragraph that was
added or removed shows up whole instead of smearing into its neighbours; only paragraphs
similar enough to be edits of each other are paired and compared further. That second pass
works on characters: Chinese has no spaces between words, so a word diff would see each
paragraph as one giant "word" and the character is the only unit left. A lone equal character
between two edits is folded into the edit, otherwise common characters such as 的 or ，
chop a rewritten phrase into unreadable confetti.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from govwatch.store.rows import VersionRow

__all__ = [
    "BodyDiff",
    "ParagraphDiff",
    "Segment",
    "diff_bodies",
    "to_html",
    "to_json",
    "to_unified",
]

SegmentOp = Literal["equal", "insert", "delete"]
ParagraphOp = Literal["equal", "insert", "delete", "change"]

PAIR_RATIO = 0.5
"""Paragraphs at least this similar (SequenceMatcher.ratio on characters) pair as an edit."""

COALESCE_MAX = 1
"""Equal runs at most this long between two edits are folded into the edit."""

MAX_PAIR_CELLS = 2500
"""Pairing compares every old paragraph of a replaced block with every new one. Bigger blocks
(site text is untrusted) are cut into proportional chunks of about this many comparisons,
which keeps the work linear; paragraphs are then only paired within their chunk."""

# Which sides (old, new) each paragraph op has.
_SIDES: dict[str, tuple[bool, bool]] = {
    "equal": (True, True),
    "insert": (False, True),
    "delete": (True, False),
    "change": (True, True),
}
_HTML_CLASS = {"equal": "eq", "insert": "ins", "delete": "del", "change": "chg"}
_HTML_TAG = {"insert": "ins", "delete": "del"}


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of characters inside a changed paragraph."""

    op: SegmentOp
    text: str


@dataclass(frozen=True, slots=True)
class ParagraphDiff:
    """One aligned paragraph: kept, inserted, deleted, or changed (with character segments)."""

    op: ParagraphOp
    old: str | None
    new: str | None
    segments: tuple[Segment, ...] = ()

    def __post_init__(self) -> None:
        sides = _SIDES.get(self.op)
        if sides is None:
            raise ValueError(f"unknown paragraph op {self.op!r}")
        if sides != (self.old is not None, self.new is not None):
            raise ValueError(f"{self.op} paragraph with old={self.old!r}, new={self.new!r}")
        if self.op == "equal" and self.old != self.new:
            raise ValueError("equal paragraph with different old and new text")
        if self.op != "change" and self.segments:
            raise ValueError("only changed paragraphs carry segments")
        if self.op == "change" and (
            _side(self.segments, "insert") != self.old or _side(self.segments, "delete") != self.new
        ):
            raise ValueError("segments do not rebuild the paragraph's old and new text")

    def inline(self) -> tuple[Segment, ...]:
        """Segments to render inline: a change's characters, else the whole paragraph as one."""
        if self.op == "change":
            return self.segments
        if self.op == "delete":
            return (Segment("delete", self.old or ""),)
        return (Segment("insert" if self.op == "insert" else "equal", self.new or ""),)


@dataclass(frozen=True, slots=True)
class BodyDiff:
    """Every paragraph of both versions, in order."""

    paragraphs: tuple[ParagraphDiff, ...]

    @property
    def changed(self) -> bool:
        return any(p.op != "equal" for p in self.paragraphs)


def diff_bodies(old: str, new: str) -> BodyDiff:
    """Align paragraphs, pair similar ones inside replaced blocks, diff pairs by character."""
    a, b = _paragraphs(old), _paragraphs(new)
    out: list[ParagraphDiff] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.extend(ParagraphDiff("equal", text, text) for text in a[i1:i2])
        else:
            out.extend(_replace_block(a[i1:i2], b[j1:j2]))
    return BodyDiff(tuple(out))


def to_unified(d: BodyDiff, *, context: int = 2, old_label: str = "a", new_label: str = "b") -> str:
    """`diff -u` over paragraph lines; "" when nothing changed."""
    if context < 0:
        raise ValueError("context must be >= 0")
    paras = d.paragraphs
    # Old/new line counts before each paragraph index (and after the last).
    old_at, new_at = [0], [0]
    for p in paras:
        old_at.append(old_at[-1] + (p.old is not None))
        new_at.append(new_at[-1] + (p.new is not None))
    hunks: list[list[int]] = []
    for k, p in enumerate(paras):
        if p.op == "equal":
            continue
        start, stop = max(0, k - context), min(len(paras), k + context + 1)
        if hunks and start <= hunks[-1][1]:
            hunks[-1][1] = stop
        else:
            hunks.append([start, stop])
    if not hunks:
        return ""
    lines = [f"--- {old_label}", f"+++ {new_label}"]
    for start, stop in hunks:
        old_range = _unified_range(old_at[start], old_at[stop])
        new_range = _unified_range(new_at[start], new_at[stop])
        lines.append(f"@@ -{old_range} +{new_range} @@")
        removed: list[str] = []
        added: list[str] = []
        for p in paras[start:stop]:
            if p.op == "equal":
                lines.extend(removed + added)
                lines.append(f" {p.old}")
                removed, added = [], []
                continue
            if p.old is not None:
                removed.append(f"-{p.old}")
            if p.new is not None:
                added.append(f"+{p.new}")
        lines.extend(removed + added)
    return "\n".join(lines) + "\n"


def to_json(d: BodyDiff) -> list[dict[str, object]]:
    """JSON-ready paragraphs; missing sides and empty segment lists are left out."""
    out: list[dict[str, object]] = []
    for p in d.paragraphs:
        item: dict[str, object] = {"op": p.op}
        if p.old is not None:
            item["old"] = p.old
        if p.new is not None:
            item["new"] = p.new
        if p.segments:
            item["segments"] = [{"op": s.op, "text": s.text} for s in p.segments]
        out.append(item)
    return out


def versions_json(old: VersionRow, new: VersionRow) -> dict[str, object]:
    """What changed from `old` to `new` as JSON (`govwatch diff --format json`, the API):
    the numbers, the title (None when the same), each metadata key that changed, the body's
    paragraphs."""
    return {
        "from": old.number,
        "to": new.number,
        "title": {"old": old.title, "new": new.title} if old.title != new.title else None,
        "meta": {
            k: {"old": old.meta.get(k), "new": new.meta.get(k)}
            for k in sorted(set(old.meta) | set(new.meta))
            if old.meta.get(k) != new.meta.get(k)
        },
        "body": to_json(diff_bodies(old.body, new.body)),
    }


def to_html(d: BodyDiff) -> str:
    """One <p> per paragraph with <ins>/<del> marks; every piece of text is escaped."""
    return "\n".join(
        f'<p class="{_HTML_CLASS[p.op]}">{"".join(map(_segment_html, p.inline()))}</p>'
        for p in d.paragraphs
    )


def _paragraphs(body: str) -> list[str]:
    return body.split("\n") if body else []


def _side(segments: Sequence[Segment], skip: SegmentOp) -> str:
    return "".join(s.text for s in segments if s.op != skip)


def _replace_block(old: list[str], new: list[str]) -> Iterator[ParagraphDiff]:
    n, m = len(old), len(new)
    parts = max(1, math.ceil(math.sqrt(n * m / MAX_PAIR_CELLS)))
    for k in range(parts):
        yield from _pair_block(
            old[k * n // parts : (k + 1) * n // parts], new[k * m // parts : (k + 1) * m // parts]
        )


def _pair_block(old: list[str], new: list[str]) -> Iterator[ParagraphDiff]:
    i = j = 0
    for pi, pj in _best_pairs(old, new):
        yield from _unpaired(old[i:pi], new[j:pj])
        yield ParagraphDiff("change", old[pi], new[pj], _char_segments(old[pi], new[pj]))
        i, j = pi + 1, pj + 1
    yield from _unpaired(old[i:], new[j:])


def _unpaired(old: list[str], new: list[str]) -> Iterator[ParagraphDiff]:
    yield from (ParagraphDiff("delete", text, None) for text in old)
    yield from (ParagraphDiff("insert", None, text) for text in new)


def _best_pairs(old: list[str], new: list[str]) -> list[tuple[int, int]]:
    """Order-preserving pairs of similar paragraphs with the highest total similarity."""
    ratios: dict[tuple[int, int], float] = {}
    matcher: SequenceMatcher[str] = SequenceMatcher(None, autojunk=False)
    for j, b in enumerate(new):
        matcher.set_seq2(b)  # the expensive index is built once per new paragraph
        for i, a in enumerate(old):
            matcher.set_seq1(a)
            if (
                matcher.real_quick_ratio() >= PAIR_RATIO
                and matcher.quick_ratio() >= PAIR_RATIO
                and (ratio := matcher.ratio()) >= PAIR_RATIO
            ):
                ratios[i, j] = ratio
    # best[i][j]: highest total ratio pairing old[i:] with new[j:].
    n, m = len(old), len(new)
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in reversed(range(n)):
        for j in reversed(range(m)):
            pair_ratio = ratios.get((i, j))
            paired = best[i + 1][j + 1] + pair_ratio if pair_ratio is not None else 0.0
            best[i][j] = max(best[i + 1][j], best[i][j + 1], paired)
    pairs: list[tuple[int, int]] = []
    i = j = 0
    while i < n and j < m:
        pair_ratio = ratios.get((i, j))
        if pair_ratio is not None and best[i][j] == best[i + 1][j + 1] + pair_ratio:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return pairs


def _char_segments(old: str, new: str) -> tuple[Segment, ...]:
    opcodes = SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    runs: list[tuple[bool, str, str]] = []  # (equal, old text, new text)
    for k, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        a, b = old[i1:i2], new[j1:j2]
        # Opcodes alternate, so an equal run that is neither first nor last sits between edits.
        interior = 0 < k < len(opcodes) - 1
        equal = tag == "equal" and not (interior and len(a) <= COALESCE_MAX)
        if not equal and runs and not runs[-1][0]:
            _, prev_a, prev_b = runs.pop()
            a, b = prev_a + a, prev_b + b
        runs.append((equal, a, b))
    segments: list[Segment] = []
    for equal, a, b in runs:
        if equal:
            segments.append(Segment("equal", a))
            continue
        if a:
            segments.append(Segment("delete", a))
        if b:
            segments.append(Segment("insert", b))
    return tuple(segments)


def _unified_range(start: int, stop: int) -> str:
    """GNU diff's range: "l" for one line, "l,n" otherwise, l = line before when n == 0."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


def _segment_html(segment: Segment) -> str:
    text = html.escape(segment.text, quote=True)
    tag = _HTML_TAG.get(segment.op)
    return f"<{tag}>{text}</{tag}>" if tag else text
