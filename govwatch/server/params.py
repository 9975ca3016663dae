"""Whole numbers from query parameters, checked before Python's int() sees them.

str.isdigit() accepts "²" and other digits int() rejects, and int() of thousands of digits
fails, as does binding an id beyond 64 bits: each of those was a 500. Only a few ASCII
digits get through here, then the range.
"""

from __future__ import annotations

import re

DIGITS = re.compile(r"[0-9]{1,10}")
"""Enough for any id the store hands out (ids stop at 2**31 - 1)."""


def whole_number(raw: str, low: int, high: int) -> int | None:
    """`raw` as a number from `low` to `high`, or None when it is not one."""
    if DIGITS.fullmatch(raw) is None:
        return None
    value = int(raw)
    return value if low <= value <= high else None
