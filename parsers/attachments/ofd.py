"""OFD (GB/T 33190, the format of signed government documents) with ofdkit, pinned: pure
Python, right on real files including signed ones and text held in composite objects."""

from __future__ import annotations

import ofdkit

from govwatch.parsers.attachments.records import Text


def ofdkit_text(data: bytes) -> Text:
    with ofdkit.open(data) as document:
        # Pages counted so that a scanned OFD (images only) fails the gate: needs_ocr.
        return Text(document.text(page_separator="\n\n"), len(document.pages))
