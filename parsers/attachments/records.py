"""What extracting an attachment gives: its format, a status, the text and who made it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Status = Literal["ok", "needs_ocr", "unsupported", "failed", "timeout", "encrypted"]
STATUSES: tuple[Status, ...] = ("ok", "needs_ocr", "unsupported", "failed", "timeout", "encrypted")


@dataclass(frozen=True)
class Format:
    """A file's format as its bytes say, whatever its name or Content-Type claims."""

    name: str
    """pdf, docx, doc (also WPS), xlsx, xls (also ET), ofd, rtf, image, pptx, ppt, zip,
    damaged-zip, encrypted-ooxml, unknown."""
    media_type: str


@dataclass(frozen=True)
class Extraction:
    format: str
    media_type: str
    status: Status
    extractor: str | None
    """`<extractor>@<version>` of the text kept; None when no extractor produced one."""
    text: str
    message: str = ""
    """Why the status is not ok, or what an earlier extractor in the chain got wrong."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Extraction:
        status = data["status"]
        if status not in STATUSES:
            raise ValueError(f"unknown extraction status {status!r}")
        return cls(
            format=str(data["format"]),
            media_type=str(data["media_type"]),
            status=status,
            extractor=data.get("extractor"),
            text=str(data.get("text", "")),
            message=str(data.get("message", "")),
        )


@dataclass(frozen=True)
class Text:
    """One extractor's output before the quality gate: the text, and its page count where
    the format has pages (the gate wants CJK characters per page)."""

    text: str
    pages: int | None = None
    note: str = ""
    """What the reader left out, for the message (OCR's page limit)."""


class Encrypted(Exception):
    """The file needs a password: no extractor will do better."""


class Unavailable(Exception):
    """The extractor's program or library is not installed here."""
