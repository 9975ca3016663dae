"""Every setting and every CLI command is documented in the README."""

from dataclasses import fields

from govwatch.cli import main
from govwatch.settings import Settings
from parsers.registry import names
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    missing = [f.name for f in fields(Settings) if f"`{f.name}`" not in README]
    assert not missing


def test_every_command_is_documented() -> None:
    missing = [name for name in main.commands if f"govwatch {name}" not in README]
    assert not missing


def test_every_parser_is_documented() -> None:
    missing = [name for name in names() if f"`{name}`" not in README]
    assert not missing
