"""The quality gate: the golden corpus must score at least the pinned numbers."""

import json

from tests.quality import PINS, score_corpus


def test_scores_do_not_drop_below_pins() -> None:
    pins = json.loads(PINS.read_text())
    summary = score_corpus().summary()
    dropped = {k: (summary[k], v) for k, v in pins.items() if summary[k] < v}
    assert not dropped, f"scores below pins (got, pinned): {dropped}"
